import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { connectInflux, type InfluxStore } from '../storage/influxdb';
import { connectRedis } from '../storage/redis';
import { startCollectorHttp } from './http';
import { createCollectorMetrics } from './metrics';
import { Pipeline } from './pipeline';
import { InfluxEventSink } from './sinks/influxdb';
import { RedisStreamSink } from './sinks/redis-stream';
import { publishSourceStatus } from './source-status';
import type { Normalizer } from './normalize';
import type { Source } from './sources/source';
import type { WebhookSource } from './sources/webhook';

/** A pulled feed and how to turn its messages into contract events (default: they already are). */
export interface Feed {
  source: Source;
  normalizer?: Normalizer;
}

export interface RunningCollector {
  port: number;
  pipeline: Pipeline;
  /** Settles when every source has ended and all it gave is written. */
  finished: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the collector: sources → pipeline → InfluxDB + Redis stream, with its HTTP port, and its
 * sources' status published to Redis for the server's admins.
 */
export async function startCollector(
  config: Config,
  feeds: readonly Feed[],
  log: Logger,
  webhooks: readonly WebhookSource[] = [],
): Promise<RunningCollector> {
  const stopping = new AbortController();
  const influx = await connectWithRetry(() => connectInflux(config.influx), stopping.signal, log);
  log.info({ version: influx.version, api: influx.api }, 'InfluxDB connected');
  const redis = connectRedis(config.redis.url, 'lanewatch-collector', log);
  const metrics = createCollectorMetrics();
  const pipeline = await Pipeline.create(
    [new InfluxEventSink(influx), new RedisStreamSink(redis, config.redis.stream, config.redis.streamMaxLen)],
    log,
    { spool: config.collector.spool, onWrite: (sink, seconds) => metrics.observeWrite(sink, seconds) },
  );
  metrics.watch(pipeline);
  const http: Server = await startCollectorHttp(config.collector, pipeline, webhooks, metrics);
  const port = (http.address() as AddressInfo).port;
  log.info({ port }, 'collector listening');

  const finished = Promise.all(
    feeds.map(({ source, normalizer }) =>
      pipeline.run(source, stopping.signal, normalizer).catch((error: unknown) => {
        log.error({ err: error, source: source.name }, 'source failed');
      }),
    ),
  ).then(() => pipeline.drain());

  const running = new Set([...feeds.map(({ source }) => source.name), ...webhooks.map(({ name }) => name)]);
  const status = publishSourceStatus(redis, pipeline, {
    stream: config.redis.stream,
    // Only configured sources this collector runs: a replay beside the live collector shares its
    // config, and must not overwrite the live sources' status with its own empty counts.
    sources: config.collector.sources.filter(({ name }) => running.has(name)),
    everyMs: config.collector.statusEveryMs,
    log,
  });

  return {
    port,
    pipeline,
    finished,
    async stop() {
      stopping.abort();
      http.close();
      await finished;
      // With the final counts, before the pipeline's Redis sink closes the connection.
      await status.stop();
      await pipeline.close();
    },
  };
}

/** The collector may start before InfluxDB answers (a reboot brings both up at once): wait for it. */
async function connectWithRetry(
  connect: () => Promise<InfluxStore>,
  signal: AbortSignal,
  log: Logger,
): Promise<InfluxStore> {
  for (let delay = 500; ; delay = Math.min(delay * 2, 10_000)) {
    try {
      return await connect();
    } catch (error) {
      if (signal.aborted) throw error;
      log.warn({ err: error, retryInMs: delay }, 'InfluxDB not reachable yet');
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

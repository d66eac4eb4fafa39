/**
 * `npm run bench:ingest` — collector throughput and live latency on this machine, against the real
 * InfluxDB and Redis (started or reused like the demo does).
 *
 * 1. Throughput: N simulated contract events from a source to acknowledged InfluxDB writes AND
 *    Redis stream appends, through the whole pipeline (validate, dedup, batch, both sinks).
 * 2. Ceiling, same run: the same events as raw line protocol, POSTed to InfluxDB `/write` in
 *    large batches with two requests in flight — what InfluxDB alone takes.
 * 3. Latency: events emitted at 2,000/s; time from emission to the entry on the Redis stream.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig, type Config } from '../config';
import type { LaneEvent } from '../collector/events';
import { Pipeline } from '../collector/pipeline';
import { InfluxEventSink, toLine } from '../collector/sinks/influxdb';
import { RedisStreamSink } from '../collector/sinks/redis-stream';
import { simulateSale } from '../collector/sources/simulator';
import type { Source } from '../collector/sources/source';
import { startServices } from '../scripts/services';
import { connectInflux } from '../storage/influxdb';
import { BUS_EVENT_FIELD, connectRedis, streamIdMs } from '../storage/redis';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 300_000);
const LATENCY_RATE = 2000;
const LATENCY_SECONDS = 15;
const CEILING_BATCH = 5000;
const log = pino({ level: 'warn' });

const base = loadConfig();
const services = await startServices(base, { log: () => {} });
try {
  const events = simulatedEvents(EVENTS);
  const pipelineRate = await measurePipeline(events);
  const ceilingRate = await measureCeiling(events);
  const latency = await measureLatency();

  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `\ningest benchmark — ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} × ${cpu}, Node ${process.version}`,
  );
  console.log(`  pipeline → InfluxDB + Redis (acknowledged): ${fmt(pipelineRate)} events/s  (${fmt(EVENTS)} events)`);
  console.log(`  ceiling: raw line protocol → InfluxDB /write: ${fmt(ceilingRate)} events/s`);
  console.log(
    `  ratio pipeline / ceiling: ${(pipelineRate / ceilingRate).toFixed(2)}  (target ≥ 0.80; ≥ 100,000 events/s)`,
  );
  console.log(
    `  event → Redis stream at ${fmt(LATENCY_RATE)}/s: p50 ${latency.p50.toFixed(1)} ms, p99 ${latency.p99.toFixed(1)} ms, max ${latency.max.toFixed(1)} ms  (target p99 ≤ 20 ms)`,
  );
} finally {
  await services.stop();
}

function isolated(): Config {
  const id = randomUUID().slice(0, 8);
  return loadConfig({
    INFLUX_URL: services.influxUrl,
    REDIS_URL: services.redisUrl,
    INFLUX_DB: `lanewatch_bench_${id}`,
    REDIS_STREAM: `lanewatch:bench:${id}`,
    SPOOL_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'lanewatch-bench-')),
  });
}

function simulatedEvents(count: number): LaneEvent[] {
  const sale = simulateSale({ seed: 9, lanes: 64, durationMin: 600, speed: 0, auction: 'bench', start: undefined });
  const events: LaneEvent[] = [];
  for (const event of sale.events()) {
    events.push(event);
    if (events.length === count) break;
  }
  return events;
}

function fromArray(events: readonly LaneEvent[]): Source {
  return {
    name: 'bench',
    async *messages() {
      yield* events;
    },
  };
}

async function withPipeline<T>(config: Config, body: (pipeline: Pipeline) => Promise<T>): Promise<T> {
  const influx = await connectInflux(config.influx);
  const redis = connectRedis(config.redis.url, 'bench');
  const pipeline = await Pipeline.create(
    [new InfluxEventSink(influx), new RedisStreamSink(redis, config.redis.stream, config.redis.streamMaxLen)],
    log,
    { spool: config.collector.spool, batchSize: CEILING_BATCH },
  );
  try {
    return await body(pipeline);
  } finally {
    await pipeline.close();
    await cleanup(config);
  }
}

async function measurePipeline(events: readonly LaneEvent[]): Promise<number> {
  return withPipeline(isolated(), async (pipeline) => {
    const started = performance.now();
    await pipeline.run(fromArray(events), new AbortController().signal);
    if (process.env.BENCH_DEBUG)
      console.log(
        'read all',
        ((performance.now() - started) / 1000).toFixed(2),
        JSON.stringify(pipeline.stats().sinks),
      );
    await pipeline.drain();
    const seconds = (performance.now() - started) / 1000;
    const stats = pipeline.stats();
    if (stats.sinks.influxdb?.written !== events.length || stats.sinks.redis?.written !== events.length) {
      throw new Error(`not every event was written: ${JSON.stringify(stats.sinks)}`);
    }
    return events.length / seconds;
  });
}

async function measureCeiling(events: readonly LaneEvent[]): Promise<number> {
  const config = isolated();
  const influx = await connectInflux(config.influx);
  const lines = events.map(toLine);
  const bodies: string[] = [];
  for (let i = 0; i < lines.length; i += CEILING_BATCH) bodies.push(lines.slice(i, i + CEILING_BATCH).join('\n'));
  const url = `${config.influx.url}/write?db=${config.influx.database}&precision=ns`;
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < bodies.length; i = next++) {
      const response = await fetch(url, { method: 'POST', body: bodies[i] });
      if (response.status !== 204) throw new Error(`ceiling write failed: ${response.status} ${await response.text()}`);
    }
  };
  await Promise.all([worker(), worker()]);
  const seconds = (performance.now() - started) / 1000;
  await influx.close();
  await cleanup(config);
  return events.length / seconds;
}

/** Emits attendance events stamped with the wall clock at a steady rate; reads them back off the stream. */
async function measureLatency(): Promise<{ p50: number; p99: number; max: number }> {
  const config = isolated();
  const total = LATENCY_RATE * LATENCY_SECONDS;
  const source: Source = {
    name: 'latency',
    async *messages() {
      const started = performance.now();
      for (let i = 0; i < total; i++) {
        const due = started + (i * 1000) / LATENCY_RATE;
        const wait = due - performance.now();
        if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
        yield {
          id: `lat-${i}`,
          type: 'attendance',
          ts: Date.now(),
          source: 'latency',
          auction: 'bench',
          sale: 'latency',
          lane: String(1 + (i % 8)),
          online: i % 50,
        };
      }
    },
  };
  return withPipeline(config, async (pipeline) => {
    await pipeline.run(source, new AbortController().signal);
    await pipeline.drain();
    const redis = connectRedis(config.redis.url, 'bench-read');
    const entries = await redis.xrange(config.redis.stream, '-', '+');
    await redis.quit();
    const latencies = entries
      .map(
        ([id, fields]) =>
          streamIdMs(id) - (JSON.parse(fields[fields.indexOf(BUS_EVENT_FIELD) + 1] ?? '{}') as LaneEvent).ts,
      )
      .sort((a, b) => a - b);
    const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.ceil(p * latencies.length) - 1)] ?? NaN;
    return { p50: at(0.5), p99: at(0.99), max: latencies.at(-1) ?? NaN };
  });
}

async function cleanup(config: Config): Promise<void> {
  const influx = await connectInflux(config.influx);
  await influx.query(`DROP DATABASE "${config.influx.database}"`);
  await influx.close();
  const redis = connectRedis(config.redis.url, 'bench-cleanup');
  await redis.del(config.redis.stream);
  await redis.quit();
  fs.rmSync(config.collector.spool.dir, { recursive: true, force: true });
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

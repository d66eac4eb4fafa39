/**
 * `npm run bench:ingest` — collector throughput and live latency on this machine, against the real
 * InfluxDB and Redis (started or reused like the demo does).
 *
 * 1. Throughput: N simulated contract events from a source to acknowledged InfluxDB writes AND
 *    Redis stream appends, through the whole pipeline (validate, dedup, batch, both sinks).
 * 2. Ceiling, same run: the same events as raw line protocol, POSTed to InfluxDB `/write` in
 *    large batches with two requests in flight over keep-alive HTTP — what InfluxDB alone takes.
 * 3. Latency: events emitted at 2,000/s; time from emission to the entry on the Redis stream.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig, type Config } from '../config';
import type { LaneEvent } from '../collector/events';
import { DEFAULT_PIPELINE_OPTIONS, Pipeline } from '../collector/pipeline';
import { InfluxEventSink, toLines } from '../collector/sinks/influxdb';
import { RedisStreamSink } from '../collector/sinks/redis-stream';
import { simulateSale } from '../collector/sources/simulator';
import type { Source } from '../collector/sources/source';
import { startServices } from '../scripts/services';
import { connectInflux } from '../storage/influxdb';
import { busEntryEvents, connectRedis, streamIdMs } from '../storage/redis';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 300_000);
const LATENCY_RATE = 2000;
const LATENCY_SECONDS = 15;
/** The ceiling's requests are as large as the pipeline's batches, so the ratio is the pipeline's own cost. */
const CEILING_BATCH = DEFAULT_PIPELINE_OPTIONS.batchSize;
const log = pino({ level: 'warn' });

const base = loadConfig();
const services = await startServices(base, { log: () => {} });
try {
  const events = simulatedEvents(EVENTS);
  const pipeline = await measurePipeline(events);
  const ceiling = await measureCeiling(events);
  const latency = await measureLatency();
  const [pipelineRate, ceilingRate] = [events.length / pipeline.seconds, events.length / ceiling.seconds];

  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `\ningest benchmark — ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} × ${cpu}, Node ${process.version}`,
  );
  console.log(`  pipeline → InfluxDB + Redis (acknowledged): ${fmt(pipelineRate)} events/s  (${fmt(EVENTS)} events)`);
  console.log(`  ceiling: raw line protocol → InfluxDB /write: ${fmt(ceilingRate)} events/s`);
  console.log(
    `  ratio pipeline / ceiling: ${(pipelineRate / ceilingRate).toFixed(2)}  (target ≥ 0.80; ≥ 100,000 events/s)`,
  );
  console.log(`  CPU per event, pipeline run: ${cpuLine(pipeline, events.length)}`);
  console.log(`  CPU per event, ceiling run:  ${cpuLine(ceiling, events.length)}`);
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
    { spool: config.collector.spool },
  );
  try {
    return await body(pipeline);
  } finally {
    await pipeline.close();
    await cleanup(config);
  }
}

async function measurePipeline(events: readonly LaneEvent[]): Promise<Timed> {
  return withPipeline(isolated(), async (pipeline) => {
    const run = await timed(async () => {
      await pipeline.run(fromArray(events), new AbortController().signal);
      await pipeline.drain();
    });
    const stats = pipeline.stats();
    if (stats.sinks.influxdb?.written !== events.length || stats.sinks.redis?.written !== events.length) {
      throw new Error(`not every event was written: ${JSON.stringify(stats.sinks)}`);
    }
    return run;
  });
}

async function measureCeiling(events: readonly LaneEvent[]): Promise<Timed> {
  const config = isolated();
  const influx = await connectInflux(config.influx);
  const bodies: Buffer[] = [];
  for (let i = 0; i < events.length; i += CEILING_BATCH) bodies.push(toLines(events.slice(i, i + CEILING_BATCH)));
  const url = `${config.influx.url}/write?db=${config.influx.database}&precision=ns`;
  // node:http with keep-alive: fetch costs the client several times the CPU, which on two cores
  // would be taken from InfluxDB and understate the ceiling.
  const agent = new http.Agent({ keepAlive: true });
  const post = (body: Buffer) =>
    new Promise<void>((resolve, reject) => {
      const request = http.request(url, { method: 'POST', agent }, (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () =>
          response.statusCode === 204
            ? resolve()
            : reject(new Error(`ceiling write failed: ${response.statusCode} ${text}`)),
        );
      });
      request.on('error', reject);
      request.end(body);
    });
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < bodies.length; i = next++) await post(bodies[i] as Buffer);
  };
  const run = await timed(() => Promise.all([worker(), worker()]));
  agent.destroy();
  await influx.close();
  await cleanup(config);
  return run;
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
      .flatMap(([id, fields]) => (busEntryEvents(fields) as LaneEvent[]).map((event) => streamIdMs(id) - event.ts))
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
  await redis.del(config.redis.stream, `${config.redis.stream}:events`);
  await redis.quit();
  fs.rmSync(config.collector.spool.dir, { recursive: true, force: true });
}

interface Timed {
  seconds: number;
  /** CPU seconds this process (`bench`), influxd and redis-server used meanwhile. */
  cpu: Record<string, number>;
}

/**
 * Wall time and CPU of exactly `body` (Linux /proc for the servers). On a small machine the three
 * processes share the cores, so this shows where a rate's limit comes from.
 */
async function timed(body: () => Promise<unknown>): Promise<Timed> {
  const before: Record<string, number> = { ...serverCpuSeconds(), bench: processCpuSeconds() };
  const started = performance.now();
  await body();
  const seconds = (performance.now() - started) / 1000;
  const after: Record<string, number> = { ...serverCpuSeconds(), bench: processCpuSeconds() };
  const cpu: Record<string, number> = {};
  for (const [name, total] of Object.entries(after)) cpu[name] = total - (before[name] ?? 0);
  return { seconds, cpu };
}

function processCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

function serverCpuSeconds(): { influxd?: number; 'redis-server'?: number } {
  const totals: Record<string, number> = {};
  const ticksPerSecond = 100; // USER_HZ on Linux
  for (const pid of fs.existsSync('/proc') ? fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)) : []) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (name !== 'influxd' && name !== 'redis-server') continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      totals[name] = (totals[name] ?? 0) + (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
    } catch {
      // the process ended while we looked
    }
  }
  return totals;
}

function cpuLine({ seconds, cpu }: Timed, events: number): string {
  const part = (name: string) => {
    const used = cpu[name];
    if (used === undefined) return `${name} n/a`;
    return `${name} ${((used * 1e6) / events).toFixed(1)} µs (${(used / seconds).toFixed(2)} cores)`;
  };
  return ['bench', 'influxd', 'redis-server'].map(part).join(', ');
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

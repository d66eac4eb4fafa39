import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type RunningCollector } from '../collector/collector';
import type { LaneEvent } from '../collector/events';
import { loadMapping } from '../collector/mapping';
import { measurementOf } from '../collector/sinks/influxdb';
import { ReplaySource, type ReplayOptions, type ReplayProgress } from '../collector/sources/replay';
import { connectInflux } from '../storage/influxdb';
import { busEvents } from './helpers/bus';
import { dropStores, isolatedConfig, quietLog } from './helpers/stores';
import { fakeClock } from './helpers/fake-clock';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'replay-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let files = 0;
/** An NDJSON recording of these lines (objects as JSON, strings as they are). */
function recording(lines: readonly unknown[]): string {
  const file = path.join(dir, `recording-${++files}.ndjson`);
  fs.writeFileSync(file, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return file;
}

const T0 = Date.UTC(2024, 11, 5, 15);
const at = (seconds: number, extra: object = {}) => ({ type: 'heartbeat', ts: T0 + seconds * 1000, ...extra });

async function play(
  options: Omit<ReplayOptions, 'name'>,
  signal = new AbortController().signal,
  onMessage?: () => void,
) {
  const seen: unknown[] = [];
  for await (const message of new ReplaySource({ name: 'replay', ...options }).messages(signal)) {
    seen.push(message);
    onMessage?.();
  }
  return seen;
}

describe('ReplaySource', () => {
  it('yields each line as its JSON, skips blank lines, and yields a line that is not JSON as its text', async () => {
    const file = recording([at(0), '', '   ', '{"type":"heartbeat",', at(1), '\r']);
    expect(await play({ file, speed: 0 })).toEqual([at(0), '{"type":"heartbeat",', at(1)]);
  });

  it('releases each message at start + (ts − first ts) / speed', async () => {
    const { clock } = fakeClock();
    const released: number[] = [];
    const file = recording([at(10), at(11), at(14), at(14)]);
    await play({ file, speed: 2, clock }, undefined, () => released.push(clock.now()));
    expect(released).toEqual([1_000, 1_500, 3_000, 3_000]);
  });

  it('does not drift when timers fire late: lateness never accumulates', async () => {
    const { clock } = fakeClock(7);
    const lateness: number[] = [];
    const file = recording(Array.from({ length: 50 }, (_, i) => at(i)));
    await play({ file, speed: 10, clock }, undefined, () => lateness.push(clock.now() - 1_000 - lateness.length * 100));
    expect(Math.max(...lateness)).toBe(7);
  });

  it('plays as fast as pulled at speed 0, never sleeping nor asking for times', async () => {
    const { clock, sleeps } = fakeClock();
    let asked = 0;
    const timeOf = () => ++asked;
    expect(await play({ file: recording([at(0), at(60), at(3600)]), speed: 0, clock, timeOf })).toHaveLength(3);
    expect([sleeps, asked]).toEqual([[], 0]);
  });

  it('plays a message without a time at once, and one out of order without waiting', async () => {
    const { clock, sleeps } = fakeClock();
    const file = recording([at(0), 'garbage', { type: 'ping' }, at(2), at(1), at(4)]);
    expect(await play({ file, speed: 1, clock })).toHaveLength(6);
    expect(sleeps).toEqual([2_000, 2_000]);
  });

  it('plays only messages timed from ≤ time < to, and untimed ones where they sit', async () => {
    const file = recording(['first', at(0), 'early', at(1), 'inside', at(2), at(3), 'late']);
    expect(await play({ file, speed: 0, from: T0 + 1000, to: T0 + 3000 })).toEqual(['first', at(1), 'inside', at(2)]);
  });

  it('paces and filters a raw recording by the time its caller reads from each message', async () => {
    const { clock, sleeps } = fakeClock();
    const raw = [{ at: 100 }, { at: 101 }, { at: 103 }, { at: 110 }];
    const timeOf = (m: unknown) => T0 + (m as { at: number }).at * 1000;
    const seen = await play({ file: recording(raw), speed: 1, clock, timeOf, to: T0 + 105_000 });
    expect(seen).toEqual(raw.slice(0, 3));
    expect(sleeps).toEqual([1_000, 2_000]);
  });

  it('reports progress as it reads the file, and all of it at the end', async () => {
    const lines = Array.from({ length: 3000 }, (_, i) => at(i, { padding: 'x'.repeat(40) }));
    const file = recording(lines);
    const reports: ReplayProgress[] = [];
    await play({ file, speed: 0, onProgress: (p) => reports.push(p) });
    const size = fs.statSync(file).size;
    expect(size).toBeGreaterThan(3 * 65536);
    expect(reports.length).toBeGreaterThanOrEqual(4);
    expect(reports.at(-1)).toEqual({ bytesRead: size, totalBytes: size, messages: 3000 });
    expect(reports.map((r) => r.bytesRead)).toEqual([...reports.map((r) => r.bytesRead)].sort((a, b) => a - b));
  });

  it('stops promptly when aborted while waiting for the next message', async () => {
    const controller = new AbortController();
    const started = performance.now();
    setTimeout(() => controller.abort(), 30);
    const seen = await play({ file: recording([at(0), at(60), at(120)]), speed: 1 }, controller.signal);
    expect(performance.now() - started).toBeLessThan(500);
    expect(seen).toEqual([at(0)]);
  });

  it('stops promptly when aborted while reading as fast as possible', async () => {
    const file = recording(Array.from({ length: 200_000 }, (_, i) => at(i)));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 5);
    const seen = await play({ file, speed: 0 }, controller.signal);
    expect(seen.length).toBeLessThan(200_000);
  });

  it('fails when the recording cannot be read, and refuses a negative speed', async () => {
    await expect(play({ file: path.join(dir, 'missing.ndjson'), speed: 0 })).rejects.toThrow(/ENOENT/);
    expect(() => new ReplaySource({ name: 'replay', file: 'x', speed: -1 })).toThrow('speed must be ≥ 0 (got -1)');
  });
});

type Expected = LaneEvent | { rejected: string };

describe('replaying a raw bidding-platform recording into InfluxDB and Redis', () => {
  const config = isolatedConfig();
  const fixtures = fileURLToPath(new URL('./fixtures/bidding-platform/', import.meta.url));
  const read = (name: string, file: string) =>
    fs
      .readFileSync(path.join(fixtures, name, file), 'utf8')
      .split('\n')
      .filter(Boolean);
  const cases = fs.readdirSync(fixtures);
  const lines = cases.flatMap((name) => read(name, 'input.ndjson'));
  const expected = cases.flatMap((name) => read(name, 'expected.ndjson').map((l) => JSON.parse(l) as Expected));
  const events = expected.filter((e): e is LaneEvent => !('rejected' in e));
  // After a reconnect the platform resends the whole normal run.
  const resent = read('normal-run', 'input.ndjson');
  const resentEvents = read('normal-run', 'expected.ndjson').length;
  let collector: RunningCollector;

  beforeAll(async () => {
    const file = recording(['', ...lines, ...resent]);
    const source = new ReplaySource({ name: 'platform-replay', file, speed: 0 });
    const normalizer = loadMapping('bidding-platform', { source: 'platform-replay' });
    collector = await startCollector(config, [{ source, normalizer }], quietLog);
    await collector.finished;
  }, 60_000);

  afterAll(async () => {
    await collector?.stop();
    await dropStores(config);
  });

  it('counts every message: accepted, rejected with reasons, resends as duplicates', () => {
    const stats = collector.pipeline.stats().sources['platform-replay'];
    expect(stats).toMatchObject({
      received: lines.length + resent.length,
      accepted: events.length,
      rejected: expected.length - events.length,
      duplicates: resentEvents,
    });
    expect(stats?.rejectedBy).toMatchObject({ 'bid.placed.amount': 1, 'attendance.online': 1 });
  });

  it('stores each event once in InfluxDB, per kind, and on the Redis stream', async () => {
    const byKind: Record<string, number> = {};
    for (const e of events) byKind[measurementOf(e.type)] = (byKind[measurementOf(e.type)] ?? 0) + 1;
    const influx = await connectInflux(config.influx);
    const series = await influx.query('SELECT count("id") FROM /.*/');
    const [sold] = await influx.query('SELECT "run", "price", "channel", "buyer", "source" FROM "vehicle_sold"');
    await influx.close();
    expect(Object.fromEntries(series.map((s) => [s.name, s.values[0]?.[1]]))).toEqual(byKind);
    expect(sold?.values).toEqual([
      [Date.UTC(2024, 11, 5, 15, 14, 26, 833), 112, 12251, 'online', 'u_6620', 'platform-replay'],
    ]);
    const onStream = await busEvents(config.redis.url, config.redis.stream);
    expect(onStream.map((e) => e.id)).toEqual(events.map((e) => e.id));
  });
});

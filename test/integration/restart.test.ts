/**
 * A server process killed with -9 mid-sale and started again ends with the figures of a run that
 * was never interrupted: it restores its latest checkpoint, reads the stream on from that
 * checkpoint's position, and so counts no event twice and misses none.
 *
 * How each way of getting this wrong shows: the figures short (restore skipped, the stream read
 * on from the position onto an empty engine); `resumedFrom` 0-0 (the checkpoint ignored, the
 * stream replayed whole); the stream replayed from the start onto the restored engine: the repeats
 * its dedup window still remembers are dropped (its count of repeats shows them), the older ones
 * count twice (the figures and the bid count show them).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type RunningCollector } from '../../collector/collector';
import { parseEvent, type LaneEvent } from '../../collector/events';
import { SimulatorSource, simulateSale } from '../../collector/sources/simulator';
import { CheckpointStore, type Checkpoint } from '../../server/checkpoint';
import { createEngine, flush, ingest, type EngineState, type SaleState } from '../../server/metrics/engine';
import { restoreEngine } from '../../server/metrics/persist';
import { saleLanes } from '../../server/metrics/snapshot';
import { saleSummary } from '../../server/metrics/summary';
import type { LaneSnapshot, SaleSummary } from '../../server/wire';
import { busEntryEvents, connectRedis } from '../../storage/redis';
import { startServerProcess, type ServerProcess } from '../helpers/server-process';
import { dropStores, eventually, isolatedConfig, quietLog } from '../helpers/stores';
import { grantToken, withToken } from '../helpers/access';

// The server's 1 s tick moves a sale's clock on by wall time; at 600× a collector stalled (by a busy
// CI machine) for longer than the reorder window would make the next events late, which the pure
// engine it is compared with never sees. 5 s of window makes that a 5 s stall.
const config = isolatedConfig({ CHECKPOINT_EVERY_SEC: '1', LATE_EVENT_SEC: '5' });
// Two and a half hours of six lanes (~35,000 events) played in 15 s of wall time.
const SPEED = 600;
const sale = simulateSale({ seed: 5, lanes: 6, durationMin: 150, speed: SPEED, auction: 'restart', start: undefined });
/**
 * How far into the sale (event time) the server is killed. More events than the engine's dedup
 * window holds (20,000) come before it, so a replay from the start onto the restored engine would
 * count some twice, not only drop repeats.
 */
const KILL_AT = 0.7;
const redis = connectRedis(config.redis.url, 'restart-test');
const checkpoints = new CheckpointStore(redis, config.redis.stream);
const CHECKPOINT_KEY = `${config.redis.stream}:checkpoint`;

let collector: RunningCollector;
let collectorDone = false;
let server: ServerProcess | undefined;
let restarted: ServerProcess | undefined;
let atKill: { checkpoint: Checkpoint | undefined; lastEntry: string; collectorDone: boolean };
let lastEntry: string;
let final: { lanes: LaneSnapshot[]; summary: SaleSummary; checkpoint: Checkpoint | undefined };
let settled: { lanes: LaneSnapshot[]; summary: SaleSummary };

beforeAll(async () => {
  server = await startServerProcess(config);
  collector = await startCollector(config, [{ source: new SimulatorSource(sale, SPEED) }], quietLog);
  void collector.finished.then(() => (collectorDone = true));

  await eventually(async () => {
    const saved = await redis.hget(CHECKPOINT_KEY, 'position');
    return saved !== null && (await saleProgress()) >= KILL_AT ? true : undefined;
  }, 30_000);
  await server.kill('SIGKILL');
  atKill = { checkpoint: await checkpoints.load(), lastEntry: await newestEntry(), collectorDone };

  restarted = await startServerProcess(config);
  const token = await grantToken(config, 'viewer');
  await collector.finished;
  lastEntry = await newestEntry();
  const base = `http://127.0.0.1:${restarted.port}/api/sales/${sale.sale}`;
  // Caught up: the whole stream checkpointed, and the sale's last event (`sale.closed`) applied.
  await eventually(async () => {
    const position = await redis.hget(CHECKPOINT_KEY, 'position');
    if (position !== lastEntry) return undefined;
    const summary = (await (await fetch(`${base}/summary`, withToken(token))).json()) as SaleSummary;
    return summary.state === 'closed' ? true : undefined;
  }, 30_000);
  const read = async () => ({
    lanes: (await (await fetch(`${base}/lanes`, withToken(token))).json()) as LaneSnapshot[],
    summary: (await (await fetch(`${base}/summary`, withToken(token))).json()) as SaleSummary,
  });
  settled = await read();
  // Past the 2 s reorder window and two more ticks: nothing held back may still change them.
  await sleep(config.server.lateEventSec * 1000 + 2000);
  final = { ...(await read()), checkpoint: await checkpoints.load() };
}, 90_000);

afterAll(async () => {
  await collector?.stop();
  await server?.kill('SIGKILL');
  await restarted?.kill('SIGTERM');
  await redis.quit();
  await dropStores(config);
});

/** How far (0–1, event time) the collector has put the sale on the stream. */
async function saleProgress(): Promise<number> {
  const [entry] = await redis.xrevrange(config.redis.stream, '+', '-', 'COUNT', 1);
  const newest = entry && (busEntryEvents(entry[1]).at(-1) as LaneEvent | undefined);
  return newest ? (newest.ts - sale.start) / (sale.end - sale.start) : 0;
}

async function newestEntry(): Promise<string> {
  const [entry] = await redis.xrevrange(config.redis.stream, '+', '-', 'COUNT', 1);
  if (!entry) throw new Error('the stream is empty');
  return entry[0];
}

/** Stream entry ids compared as Redis orders them. */
function compareIds(a: string, b: string): number {
  const [aMs = 0, aSeq = 0] = a.split('-').map(Number);
  const [bMs = 0, bSeq = 0] = b.split('-').map(Number);
  return aMs - bMs || aSeq - bSeq;
}

/** Every event on the stream, as the server's bus reads them. */
async function streamEvents(): Promise<LaneEvent[]> {
  const entries = await redis.xrange(config.redis.stream, '-', '+');
  return entries.flatMap(([, fields]) =>
    busEntryEvents(fields).flatMap((raw) => {
      const parsed = parseEvent(raw);
      return parsed.ok ? [parsed.event] : [];
    }),
  );
}

/** The pure engine over exactly the events on the stream, with the server's reorder window. */
async function uninterrupted(): Promise<{ engine: EngineState; state: SaleState }> {
  const engine = createEngine({ latenessMs: config.server.lateEventSec * 1000 });
  for (const event of await streamEvents()) ingest(engine, event);
  flush(engine);
  const state = engine.sales.get(sale.sale);
  if (!state) throw new Error('the engine saw no sale');
  return { engine, state };
}

/** The counts a restart could get wrong, exact per lane (bids by channel: see `laneBids`). */
const COUNTS = [
  'offered',
  'sold',
  'ifSale',
  'noSale',
  'unresolved',
  'grossSales',
  'distinctOnlineBidders',
  'feedGaps',
  'lateEvents',
] as const;
const counts = (lane: LaneSnapshot) => ({
  lane: lane.lane,
  ...Object.fromEntries(COUNTS.map((key) => [key, lane[key]])),
  missedOnlineBids: lane.missedOnlineBids.sale,
});

/** A lane without what depends on when, after its sale, the server is asked rather than on the events. */
function eventFigures(lane: LaneSnapshot) {
  const {
    feedAgeSec: _age,
    attendance: _chart,
    attendanceBaseline: _baseline,
    attendanceChangePct: _change,
    missedOnlineBids,
    ...rest
  } = lane;
  return { ...rest, missedOnlineBids: missedOnlineBids.sale };
}

/**
 * Accepted bids by channel per lane, from an engine state: the lane snapshots the API serves carry
 * only bid rates and shares, the exact counts are in the summary for the sale as a whole.
 */
function laneBids(state: SaleState) {
  return [...state.lanes.values()]
    .map((lane) => ({ lane: lane.lane, bids: lane.tally.bids }))
    .sort((a, b) => a.lane.localeCompare(b.lane, undefined, { numeric: true }));
}

describe('server killed with -9 mid-sale and started again', () => {
  it('was killed after a checkpoint, with stream entries past it, while the sale still ran', () => {
    expect(atKill.checkpoint).toBeDefined();
    expect(compareIds(atKill.lastEntry, atKill.checkpoint?.position ?? '0-0')).toBeGreaterThan(0);
    expect(atKill.collectorDone).toBe(false);
    expect(compareIds(lastEntry, atKill.lastEntry)).toBeGreaterThan(0);
  });

  it('resumed from the checkpoint it found', () => {
    expect(restarted?.resumedFrom).toBe(atKill.checkpoint?.position);
    expect(restarted?.log.some((line) => line.includes('restored the checkpoint'))).toBe(true);
  });

  it('holds still once caught up and past the reorder window', () => {
    expect(final.lanes.map(eventFigures)).toEqual(settled.lanes.map(eventFigures));
    expect({ ...final.summary, asOf: 0 }).toEqual({ ...settled.summary, asOf: 0 });
  });

  it('ends with every lane figure of an uninterrupted run', async () => {
    const { state } = await uninterrupted();
    const expected = saleLanes(state, state.latestTs);
    expect(expected.reduce((n, lane) => n + lane.offered, 0)).toBeGreaterThan(300);
    expect(final.lanes.map(counts)).toEqual(expected.map(counts));
    expect(final.lanes.map(eventFigures)).toEqual(expected.map(eventFigures));
  });

  it('ends with the sale summary and staff rows of an uninterrupted run', async () => {
    const { state } = await uninterrupted();
    const expected = saleSummary(state, state.latestTs);
    expect(final.summary.auctioneers).toEqual(expected.auctioneers);
    expect(final.summary.clerks).toEqual(expected.clerks);
    expect({ ...final.summary, asOf: 0 }).toEqual({ ...expected, asOf: 0 });
  });

  it('counted no event twice and missed none', async () => {
    const { engine, state } = await uninterrupted();
    const events = await streamEvents();
    // The stream itself holds each event once: any repeat the server dropped came from a replay.
    expect(new Set(events.map((e) => `${e.source}:${e.id}`)).size).toBe(events.length);
    const restored = restoreEngine(final.checkpoint?.engine ?? '');
    expect(final.checkpoint?.position).toBe(lastEntry);
    expect(restored.duplicates).toBe(engine.duplicates);
    expect(restored.duplicates).toBe(0);

    // Each accepted bid on the stream counts once, less the ones retracted.
    const accepted =
      events.filter((e) => e.type === 'bid').length - events.filter((e) => e.type === 'bid.retracted').length;
    const bids = final.summary.bids;
    expect(bids.online + bids.floor + bids.proxy).toBe(accepted);

    // The saved state, not only what the API shows of it, is the uninterrupted one at any `now`.
    flush(restored);
    const restoredSale = restored.sales.get(sale.sale);
    if (!restoredSale) throw new Error('the checkpoint holds no sale');
    expect(laneBids(restoredSale)).toEqual(laneBids(state));
    expect(saleLanes(restoredSale, state.latestTs + 60_000)).toEqual(saleLanes(state, state.latestTs + 60_000));
  });
});

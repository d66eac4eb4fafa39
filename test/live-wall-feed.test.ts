/**
 * The wall view of socket.io `/live` (server/live.ts, server/chart-feed.ts): a real socket.io
 * server and client over loopback, a sale board fed the simulator's events directly, a wall clock
 * that moves only when the test says, and the alert desk stood in for by a list the test sets.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io, type Socket } from 'socket.io-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_ALERT_CONFIG } from '../alerts/config';
import { declineLevel, isDecline } from '../alerts/rules/decline';
import type { Alert } from '../alerts/types';
import type { LaneEvent } from '../collector/events';
import { simulateSale } from '../collector/sources/simulator';
import { Buckets, MarkerSet } from '../server/chart-feed';
import { EventClock } from '../server/clock';
import { LiveFeed } from '../server/live';
import { DEFAULT_SNAPSHOT_OPTIONS } from '../server/metrics/snapshot';
import { SaleBoard } from '../server/sale-board';
import type { Ack, ClientToServerEvents, Heartbeat, ServerToClientEvents, WallDelta, WatchReply } from '../server/wire';
import { quietLog } from './helpers/stores';

const MIN = 60_000;
const sale = simulateSale({ seed: 5, lanes: 12, durationMin: 120, speed: 1, auction: 'testville', start: undefined });

let wallTime = 0;
let board: SaleBoard;
let alerts: Alert[];
let build: string | null;
let http: HttpServer;
let live: LiveFeed;
let client: Socket<ServerToClientEvents, ClientToServerEvents>;
let received: WallDelta[];
let beats: Heartbeat[];
let events: Generator<LaneEvent>;

/** Applies the sale's events up to `minutes` into it and sets the wall clock to the newest one. */
function playUntil(minutes: number): void {
  const until = sale.start + minutes * MIN;
  for (;;) {
    const next = events.next();
    if (next.done) return;
    board.apply(next.value);
    board.tick();
    if (next.value.ts >= until) return;
  }
}

async function watch(request: { resume?: boolean } = {}): Promise<Ack<WatchReply>> {
  const reply = await new Promise<Ack<WatchReply>>((resolve) =>
    client.emit('watch', { sale: sale.sale, view: 'wall', ...request }, resolve),
  );
  await settle();
  return reply;
}

/** Lets socket.io deliver what was sent. */
async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 50));
}

async function tickSecond(): Promise<WallDelta[]> {
  const before = received.length;
  for (let slot = 0; slot < 10; slot++) live.tick();
  await settle();
  return received.slice(before);
}

beforeEach(async () => {
  wallTime = 0;
  events = sale.events();
  board = new SaleBoard(DEFAULT_SNAPSHOT_OPTIONS, new EventClock(() => wallTime));
  alerts = [];
  build = 'build-1';
  http = createServer();
  const server = new Server(http);
  live = new LiveFeed(server, board, quietLog, {
    alerts: { list: ({ sale: id }) => alerts.filter((a) => a.sale === id), rules: () => DEFAULT_ALERT_CONFIG },
    build: () => build,
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  client = io(`http://127.0.0.1:${(http.address() as AddressInfo).port}/live`, { transports: ['websocket'] });
  received = [];
  beats = [];
  client.on('wall', (delta) => received.push(delta));
  client.on('heartbeat', (beat) => beats.push(beat));
  await new Promise<void>((resolve) => client.on('connect', () => resolve()));
  playUntil(40);
});

afterEach(async () => {
  client.close();
  live.stop();
  await new Promise((resolve) => http.close(resolve));
});

describe('the wall view of /live', () => {
  it('sends every lane’s tile and its 30-minute chart on watch, with the live edge and chart step', async () => {
    const reply = await watch();
    const now = board.saleState(sale.sale)?.now as number;
    expect(reply).toEqual({ ok: true, data: { sale: sale.sale, liveFrom: now - 30 * MIN, chartStepSec: 15 } });
    const [first] = received;
    expect(first?.lanes.map((lane) => lane.lane)).toEqual(sale.lanes);
    for (const lane of first?.lanes ?? []) {
      expect(lane.tile?.state).toBe('open');
      expect(lane.chart.window).toEqual({ from: now - 30 * MIN, to: now });
      // 30 minutes of 15 s buckets, the newest one still filling.
      expect(lane.chart.points?.ts.length).toBeGreaterThanOrEqual(119);
      expect(lane.chart.points?.ts.length).toBeLessThanOrEqual(121);
      expect(lane.chart.points?.ts.every((ts) => ts % 15_000 === 0)).toBe(true);
    }
    expect(first?.header?.chart?.points?.ts.length).toBeGreaterThan(25);
    expect(beats.at(-1)).toEqual({ sale: sale.sale, now, build: 'build-1' });
  });

  it('never sends a VIN, only year, make and model', async () => {
    await watch();
    const text = JSON.stringify(received);
    expect(text).not.toMatch(/"vin"|[A-HJ-NPR-Z0-9]{17}/);
    expect(received[0]?.lanes.some((lane) => /^\d{4} \w+/.test(lane.tile?.run?.vehicle ?? ''))).toBe(true);
  });

  it('sends nothing for lanes that did not change', async () => {
    await watch();
    expect(await tickSecond()).toEqual(
      // The header's first round after the watch: the board and ticker are unchanged too.
      [],
    );
  });

  it('spreads the lanes over the second and appends new buckets instead of resending the series', async () => {
    await watch();
    const held = new Map(received[0]?.lanes.map((lane) => [lane.lane, lane.chart.points?.ts.at(-1) as number]));
    playUntil(41);
    wallTime += 1000;
    const perSlot: string[][] = [];
    for (let slot = 0; slot < 10; slot++) {
      const before = received.length;
      live.tick();
      await settle();
      perSlot.push(received.slice(before).flatMap((delta) => delta.lanes.map((lane) => lane.lane)));
    }
    // 12 lanes over 10 slots: lane i in slot i mod 10, each once.
    expect(perSlot).toEqual(sale.lanes.map((_, i) => sale.lanes.filter((__, j) => j % 10 === i)).slice(0, 10));
    for (const delta of received.slice(1)) {
      for (const lane of delta.lanes) {
        const points = lane.chart.points;
        if (!points) continue;
        // From the bucket before the last one held on: a minute of new samples is 4–6 buckets, not 120.
        expect(points.from).toBeGreaterThanOrEqual((held.get(lane.lane) as number) - 15_000);
        expect(points.ts.length).toBeLessThanOrEqual(6);
      }
    }
  });

  it('gives a resuming screen chart points from a minute back only, for it to backfill the rest', async () => {
    const reply = await watch({ resume: true });
    const now = board.saleState(sale.sale)?.now as number;
    const liveFrom = Math.floor((now - MIN) / 15_000) * 15_000;
    expect(reply).toEqual({ ok: true, data: { sale: sale.sale, liveFrom, chartStepSec: 15 } });
    for (const lane of received[0]?.lanes ?? []) {
      expect(lane.chart.points?.from).toBe(liveFrom);
      expect(lane.chart.points?.ts[0]).toBeGreaterThanOrEqual(liveFrom);
      expect(lane.tile).toBeDefined();
    }
  });

  it('colours a tile by its worst firing alert, names pending ones quietly, and marks alerts on its chart', async () => {
    await watch();
    const now = board.saleState(sale.sale)?.now as number;
    alerts = [
      alert({ lane: '3', rule: 'clerk.slow', state: 'pending', since: now }),
      alert({ lane: '3', rule: 'attendance.decline', state: 'firing', since: now, firedAt: now - 5000 }),
      alert({ source: sale.sources[0], rule: 'feed.stale', state: 'firing', severity: 'critical', since: now }),
    ];
    wallTime += 1000;
    playUntil(40.1);
    const deltas = await tickSecond();
    const lane3 = deltas.flatMap((d) => d.lanes).find((lane) => lane.lane === '3');
    expect(lane3?.tile?.worst).toBe('critical');
    expect(lane3?.tile?.firing.map((a) => a.rule)).toEqual(['feed.stale', 'attendance.decline']);
    expect(lane3?.tile?.quiet.map((a) => [a.rule, a.state])).toEqual([['clerk.slow', 'pending']]);
    expect(lane3?.chart.markers).toEqual([
      {
        key: 'attendance.decline|testville|x|lane:3',
        rule: 'attendance.decline',
        severity: 'warning',
        from: now - 5000,
        to: null,
      },
    ]);
    expect(lane3?.chart.band?.expected.at(-1)).toBe(31);
    expect(lane3?.chart.band?.declineAt.at(-1)).toBe(declineLevel(31, DEFAULT_ALERT_CONFIG['attendance.decline'].lane));
    const header = deltas.find((d) => d.header?.ticker)?.header;
    expect(header?.ticker?.map((entry) => [entry.rule, entry.state])).toEqual([
      ['feed.stale', 'firing'],
      ['attendance.decline', 'firing'],
      ['clerk.slow', 'pending'],
    ]);
  });

  it('sends the sales board: auctioneers by cars sold, clerks by latency', async () => {
    await watch();
    const board = received[0]?.header?.board;
    expect(board?.auctioneers.length).toBeGreaterThan(1);
    const sold = board?.auctioneers.map((row) => row.sold) ?? [];
    expect(sold).toEqual([...sold].sort((a, b) => b - a));
    const latency = board?.clerks.map((row) => row.meanClerkLatencySec ?? Infinity) ?? [];
    expect(latency).toEqual([...latency].sort((a, b) => a - b));
  });

  it('reports a new build in the next heartbeat', async () => {
    await watch();
    build = 'build-2';
    await tickSecond();
    expect(beats.at(-1)?.build).toBe('build-2');
  });
});

describe('chart pieces', () => {
  it('replaces buckets from the first one that changed', () => {
    const buckets = new Buckets(15_000);
    buckets.replaceFrom(0, { ts: [0, 15_000, 30_000], online: [5, 6, 7] });
    expect(buckets.replaceFrom(15_000, { ts: [15_000, 30_000], online: [6, 7] })).toBeNull();
    expect(buckets.replaceFrom(15_000, { ts: [15_000, 30_000, 45_000], online: [6, 8, 9] })).toBe(30_000);
    expect(buckets.since(30_000)).toEqual({ from: 30_000, ts: [30_000, 45_000], online: [8, 9] });
    buckets.trimBefore(20_000);
    expect(buckets.ts).toEqual([30_000, 45_000]);
  });

  it('ends a marker when its alert resolves, and forgets it once out of the window', () => {
    const markers = new MarkerSet();
    const firing = alert({ lane: '1', rule: 'bids.missed', state: 'firing', since: 1000, firedAt: 1000 });
    markers.record([firing], 2000);
    markers.record([{ ...firing, state: 'resolved', firedAt: undefined, resolvedAt: 9000 }], 9500);
    expect(markers.list()).toMatchObject([{ rule: 'bids.missed', from: 1000, to: 9000 }]);
    markers.trimBefore(10_000);
    expect(markers.list()).toEqual([]);
  });

  it('draws the decline edge exactly where the rule starts counting a decline', () => {
    const thresholds = DEFAULT_ALERT_CONFIG['attendance.decline'].lane;
    for (const baseline of [4, 5, 8, 12, 31, 64, 150]) {
      const edge = declineLevel(baseline, thresholds);
      if (edge === null) {
        expect(isDecline(baseline, 0, thresholds)).toBe(false);
        continue;
      }
      expect(isDecline(baseline, edge - 1e-9, thresholds)).toBe(true);
      expect(isDecline(baseline, edge + 1e-9, thresholds)).toBe(false);
    }
  });
});

function alert(fields: Partial<Alert> & Pick<Alert, 'rule' | 'state' | 'since'>): Alert {
  const target = fields.lane !== undefined ? `lane:${fields.lane}` : `source:${fields.source}`;
  return {
    key: `${fields.rule}|testville|x|${target}`,
    scope: fields.lane !== undefined ? 'lane' : 'source',
    auction: 'testville',
    sale: sale.sale,
    severity: 'warning',
    figures: fields.rule === 'attendance.decline' ? { baseline: 31, onlineBidders: 18 } : {},
    causes: [],
    transition: 1,
    message: `${fields.rule} ${fields.state}`,
    ...fields,
  };
}

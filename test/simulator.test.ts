import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SimulatorConfig } from '../config';
import { parseEvent, type EventOf, type LaneEvent } from '../collector/events';
import { SimulatorSource, simulateSale, type Incident, type SimulatedSale } from '../collector/sources/simulator';
import { fakeClock } from './helpers/fake-clock';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const START = Date.UTC(2025, 2, 4, 14, 0);

function config(overrides: Partial<SimulatorConfig> = {}): SimulatorConfig {
  return { seed: 1, lanes: 8, durationMin: 240, speed: 0, auction: 'dallas', start: START, ...overrides };
}

function ofType<T extends LaneEvent['type']>(events: readonly LaneEvent[], type: T): EventOf<T>[] {
  return events.filter((e): e is EventOf<T> => e.type === type);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] as number;
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

function incident(sale: SimulatedSale, kind: Incident['kind']): Incident {
  const found = sale.incidents.find((i) => i.kind === kind);
  if (found === undefined) throw new Error(`no ${kind} incident`);
  return found;
}

function onlineCounts(events: readonly LaneEvent[], lane: string | undefined, from: number, to: number): number[] {
  return ofType(events, 'attendance')
    .filter((e) => (lane === undefined || e.lane === lane) && e.ts >= from && e.ts < to)
    .map((e) => e.online);
}

interface FinishedRun {
  lane: string;
  run: number;
  up: EventOf<'vehicle.up'>;
  bids: EventOf<'bid'>[];
  outcome: EventOf<'vehicle.sold' | 'vehicle.ifsale' | 'vehicle.nosale'>;
}

/** Runs as METRICS.md counts them: opened by `vehicle.up`, finished by the outcome of the same run. */
function finishedRuns(events: readonly LaneEvent[]): FinishedRun[] {
  const open = new Map<string, { up: EventOf<'vehicle.up'>; bids: EventOf<'bid'>[] }>();
  const done: FinishedRun[] = [];
  for (const e of events) {
    if (e.type === 'vehicle.up') open.set(e.lane, { up: e, bids: [] });
    const current = 'lane' in e && e.lane !== undefined ? open.get(e.lane) : undefined;
    if (current === undefined || !('run' in e) || e.run !== current.up.run) continue;
    if (e.type === 'bid') current.bids.push(e);
    if (e.type === 'bid.retracted') current.bids.pop();
    if (e.type === 'vehicle.sold' || e.type === 'vehicle.ifsale' || e.type === 'vehicle.nosale') {
      done.push({ lane: e.lane, run: e.run, up: current.up, bids: current.bids, outcome: e });
      open.delete(e.lane);
    }
  }
  return done;
}

/** Clerk latency (submitted → accepted) per clerk on the lane at acceptance. */
function latencyByClerk(events: readonly LaneEvent[]): Map<string, number[]> {
  const clerkOn = new Map<string, string>();
  const submittedAt = new Map<string, number>();
  const latencies = new Map<string, number[]>();
  for (const e of events) {
    if ((e.type === 'lane.opened' || e.type === 'lane.staff') && e.clerk !== undefined) clerkOn.set(e.lane, e.clerk);
    if (e.type === 'bid.submitted') submittedAt.set(e.bidId, e.ts);
    if (e.type === 'bid' && e.bidId !== undefined) {
      const clerk = clerkOn.get(e.lane) as string;
      const list = latencies.get(clerk) ?? [];
      list.push(e.ts - (submittedAt.get(e.bidId) as number));
      latencies.set(clerk, list);
    }
  }
  return latencies;
}

// The default sale every figure below is measured on: 8 lanes, 4 hours, seed 1.
const sale = simulateSale(config());
const events = [...sale.events()];
const runs = finishedRuns(events);
const latencies = latencyByClerk(events);

describe('simulateSale: identity and determinism', () => {
  afterEach(() => vi.useRealTimers());

  it('names the sale after the auction and its UTC start minute, and splits lanes across feed connections', () => {
    expect(sale).toMatchObject({
      auction: 'dallas',
      sale: 'dallas-20250304-140000',
      name: 'Dallas Weekly Dealer Sale',
      start: START,
      end: START + 4 * HOUR,
      lanes: ['1', '2', '3', '4', '5', '6', '7', '8'],
      sources: ['sim-1', 'sim-2'],
    });
    const sourceOf = new Map(ofType(events, 'lane.opened').map((e) => [e.lane, e.source]));
    expect([...sourceOf.values()].filter((s) => s === 'sim-1')).toHaveLength(4);
    expect([...sourceOf.values()].filter((s) => s === 'sim-2')).toHaveLength(4);
  });

  it('starts at the current second when no start is configured, so each demo run is a new sale', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.UTC(2025, 5, 7, 9, 41, 37, 512));
    const now = simulateSale(config({ start: undefined, durationMin: 10 }));
    expect(now.start).toBe(Date.UTC(2025, 5, 7, 9, 41, 37));
    expect(now.sale).toBe('dallas-20250607-094137');
    vi.setSystemTime(Date.UTC(2025, 5, 7, 9, 41, 52));
    expect(simulateSale(config({ start: undefined, durationMin: 10 })).sale).toBe('dallas-20250607-094152');
  });

  it('repeats itself exactly for the same seed, and on every call of events()', () => {
    const short = config({ durationMin: 30 });
    const first = [...simulateSale(short).events()];
    const again = simulateSale(short);
    expect([...again.events()]).toEqual(first);
    expect([...again.events()]).toEqual(first);
    expect(first.length).toBeGreaterThan(5000);
  });

  it('differs for another seed', () => {
    const a = [...simulateSale(config({ durationMin: 30 })).events()];
    const b = [...simulateSale(config({ durationMin: 30, seed: 2 })).events()];
    expect(b).not.toEqual(a);
    expect(ofType(b, 'vehicle.up')[0]?.vin).not.toBe(ofType(a, 'vehicle.up')[0]?.vin);
  });
});

describe('the event stream of an 8-lane 4-hour sale', () => {
  it('fits the contract: every event passes parseEvent', () => {
    const rejected = events.map(parseEvent).filter((r) => !r.ok);
    expect(rejected).toEqual([]);
    expect(events.length).toBeGreaterThan(60_000);
  });

  it('is in non-decreasing ts order, from sale.opened at the start to sale.closed at the end', () => {
    const backwards = events.filter((e, i) => i > 0 && e.ts < (events[i - 1] as LaneEvent).ts);
    expect(backwards).toEqual([]);
    expect(events[0]).toMatchObject({ type: 'sale.opened', ts: START, name: 'Dallas Weekly Dealer Sale' });
    expect(events.at(-1)).toMatchObject({ type: 'sale.closed', ts: START + 4 * HOUR });
  });

  it('has unique ids and a seq that increases per source and lane, jumping only across the silent window', () => {
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    const silent = incident(sale, 'source.silent');
    const last = new Map<string, LaneEvent>();
    const jumps: { from: number; to: number }[] = [];
    const backwards: LaneEvent[] = [];
    for (const e of events) {
      const key = `${e.source}/${'lane' in e ? (e.lane ?? '') : ''}`;
      const previous = last.get(key);
      if (previous !== undefined && (e.seq as number) <= (previous.seq as number)) backwards.push(e);
      if (previous !== undefined && e.seq !== (previous.seq as number) + 1) jumps.push({ from: previous.ts, to: e.ts });
      last.set(key, e);
    }
    expect(backwards).toEqual([]);
    // The silent source's 4 lanes and its heartbeat each show one gap, around the window.
    expect(jumps).toHaveLength(5);
    for (const jump of jumps) expect(jump.from < silent.from && jump.to >= silent.to).toBe(true);
  });
});

describe('lanes and staff', () => {
  it('opens each lane 0–3 min after the sale with an auctioneer and a clerk, and closes it before the end', () => {
    const opened = ofType(events, 'lane.opened');
    const closed = ofType(events, 'lane.closed');
    expect(opened.map((e) => e.lane).sort()).toEqual(sale.lanes);
    expect(closed.map((e) => e.lane).sort()).toEqual(sale.lanes);
    for (const e of opened) expect(e.ts - START).toBeLessThanOrEqual(3 * MINUTE);
    for (const e of closed) expect(e.ts).toBeGreaterThan(START + 3.8 * HOUR);
    expect(new Set(opened.map((e) => e.clerk)).size).toBe(8);
  });

  it('changes a clerk mid-sale on one lane', () => {
    const changes = ofType(events, 'lane.staff');
    expect(changes).toHaveLength(1);
    const change = changes[0] as EventOf<'lane.staff'>;
    expect(change.ts).toBeGreaterThan(START + HOUR);
    expect(change.ts).toBeLessThan(START + 3 * HOUR);
    const before = ofType(events, 'lane.opened').find((e) => e.lane === change.lane);
    expect(change.clerk).not.toBe(before?.clerk);
    expect(ofType(events, 'lane.closed').find((e) => e.lane === change.lane)?.clerk).toBe(change.clerk);
  });
});

describe('runs: pace, bidding and outcomes', () => {
  it('takes a median 45–75 s per vehicle and 3–12 s to the first bid', () => {
    const seconds = runs.map((r) => (r.outcome.ts - r.up.ts) / 1000);
    expect(median(seconds)).toBeGreaterThanOrEqual(45);
    expect(median(seconds)).toBeLessThanOrEqual(75);
    const firstBid = runs.map((r) => ((r.bids[0] as EventOf<'bid'>).ts - r.up.ts) / 1000);
    expect(median(firstBid)).toBeGreaterThanOrEqual(3);
    expect(median(firstBid)).toBeLessThanOrEqual(12);
  });

  it('runs about 60 cars an hour per lane; the slow clerk’s lane is the slowest', () => {
    const perHour = new Map<string, number>();
    for (const lane of sale.lanes) {
      const open = ofType(events, 'lane.opened').find((e) => e.lane === lane) as EventOf<'lane.opened'>;
      const close = ofType(events, 'lane.closed').find((e) => e.lane === lane) as EventOf<'lane.closed'>;
      perHour.set(lane, runs.filter((r) => r.lane === lane).length / ((close.ts - open.ts) / HOUR));
    }
    const rates = [...perHour.values()];
    expect(median(rates)).toBeGreaterThanOrEqual(55);
    expect(median(rates)).toBeLessThanOrEqual(68);
    for (const rate of rates) expect(rate).toBeGreaterThanOrEqual(45);
    for (const rate of rates) expect(rate).toBeLessThanOrEqual(72);
    const slowest = [...perHour].sort((a, b) => a[1] - b[1])[0]?.[0];
    const slowClerk = [...latencies].find(([, ms]) => median(ms) > 3000)?.[0];
    const slowClerkLane = ofType(events, 'lane.opened').find((e) => e.clerk === slowClerk)?.lane;
    expect(slowest).toBe(slowClerkLane);
  });

  it('climbs 6–15 accepted bids in $100–500 steps from ~60–70 % of MMR', () => {
    // Runs overlapping the silent window lost some of their bids.
    const silent = incident(sale, 'source.silent');
    const intact = runs.filter((r) => r.outcome.ts < silent.from || r.up.ts >= silent.to);
    const counts = intact.map((r) => r.bids.length);
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(6);
    expect(Math.max(...counts)).toBeLessThanOrEqual(15);
    expect(mean(counts)).toBeGreaterThan(9);
    const steps = intact.flatMap((r) => r.bids.slice(1).map((b, i) => b.amount - (r.bids[i] as EventOf<'bid'>).amount));
    expect(steps.every((s) => s >= 100 && s <= 500 && s % 100 === 0)).toBe(true);
    const cheap = intact.filter((r) => (r.up.mmr as number) < 15000);
    const opening = median(cheap.map((r) => (r.bids[0] as EventOf<'bid'>).amount / (r.up.mmr as number)));
    expect(opening).toBeGreaterThan(0.55);
    expect(opening).toBeLessThan(0.75);
  });

  it('takes 38–52 % of accepted bids online, the rest from the floor and proxy', () => {
    const bids = ofType(events, 'bid');
    const share = (channel: string) => bids.filter((b) => b.channel === channel).length / bids.length;
    expect(share('online')).toBeGreaterThanOrEqual(0.38);
    expect(share('online')).toBeLessThanOrEqual(0.52);
    expect(share('proxy')).toBeGreaterThan(0.03);
    expect(share('floor')).toBeGreaterThan(0.4);
  });

  it('sells 50–70 % of offered vehicles near MMR at the last bid, with 8–18 % if-sales', () => {
    const sold = runs.filter((r) => r.outcome.type === 'vehicle.sold');
    const ifSales = runs.filter((r) => r.outcome.type === 'vehicle.ifsale');
    expect(sold.length / runs.length).toBeGreaterThanOrEqual(0.5);
    expect(sold.length / runs.length).toBeLessThanOrEqual(0.7);
    expect(ifSales.length / runs.length).toBeGreaterThanOrEqual(0.08);
    expect(ifSales.length / runs.length).toBeLessThanOrEqual(0.18);
    const priceToMmr = median(sold.map((r) => (r.outcome as EventOf<'vehicle.sold'>).price / (r.up.mmr as number)));
    expect(priceToMmr).toBeGreaterThanOrEqual(0.85);
    expect(priceToMmr).toBeLessThanOrEqual(1.05);
    for (const r of sold) {
      const last = r.bids.at(-1) as EventOf<'bid'>;
      expect(r.outcome).toMatchObject({ price: last.amount, channel: last.channel === 'online' ? 'online' : 'floor' });
    }
    expect(sold.some((r) => (r.outcome as EventOf<'vehicle.sold'>).channel === 'online')).toBe(true);
  });

  it('answers most if-sales minutes later, approving about half', () => {
    const ifSales = new Map(ofType(events, 'vehicle.ifsale').map((e) => [`${e.lane}/${e.run}`, e]));
    const answers = ofType(events, 'ifsale.resolved');
    expect(answers.length / ifSales.size).toBeGreaterThan(0.6);
    for (const answer of answers) {
      const asked = ifSales.get(`${answer.lane}/${answer.run}`) as EventOf<'vehicle.ifsale'>;
      expect(answer.ts - asked.ts).toBeGreaterThanOrEqual(2 * MINUTE);
    }
    const approved = answers.filter((a) => a.approved).length / answers.length;
    expect(approved).toBeGreaterThan(0.35);
    expect(approved).toBeLessThan(0.65);
    expect(answers.some((a) => a.price !== undefined)).toBe(true);
  });
});

describe('online bids and block errors', () => {
  it('has one slow clerk (median latency > 3 s) and every other clerk under 2 s', () => {
    const medians = [...latencies].map(([clerk, ms]) => [clerk, median(ms), ms.length] as const);
    expect(medians).toHaveLength(9); // 8 lanes and the relief clerk
    const slow = medians.filter(([, ms]) => ms > 3000);
    expect(slow).toHaveLength(1);
    expect(slow[0]?.[1]).toBeLessThan(5500);
    for (const [, ms, count] of medians.filter(([clerk]) => clerk !== slow[0]?.[0])) {
      expect(ms).toBeLessThan(2000);
      expect(ms).toBeGreaterThan(600);
      expect(count).toBeGreaterThan(100);
    }
  });

  it('misses about 2 % of online submissions: no bid with their bidId follows', () => {
    const accepted = new Set(ofType(events, 'bid').map((b) => b.bidId));
    const submitted = ofType(events, 'bid.submitted');
    const missed = submitted.filter((s) => !accepted.has(s.bidId)).length / submitted.length;
    expect(missed).toBeGreaterThan(0.01);
    expect(missed).toBeLessThan(0.035);
    expect(new Set(submitted.map((s) => s.bidder)).size).toBeGreaterThan(100);
  });

  it('retracts, reruns and reverses now and then', () => {
    const retracted = ofType(events, 'bid.retracted');
    expect(retracted.length / runs.length).toBeGreaterThan(0.003);
    expect(retracted.length / runs.length).toBeLessThan(0.03);
    for (const r of retracted) {
      const previous = events.filter((e) => e.type === 'bid' && e.lane === r.lane && e.ts <= r.ts).at(-1);
      expect(previous).toMatchObject({ run: r.run, amount: r.amount });
    }
    const reruns = ofType(events, 'vehicle.rerun');
    expect(reruns.length).toBeGreaterThan(5);
    for (const rerun of reruns) {
      const ups = ofType(events, 'vehicle.up').filter((u) => u.lane === rerun.lane && u.run === rerun.run);
      expect(ups).toHaveLength(2);
      expect(ups[1]?.ts).toBe(rerun.ts);
      expect(ups[1]?.vin).toBe(ups[0]?.vin);
    }
    const soldRuns = new Set(ofType(events, 'vehicle.sold').map((e) => `${e.lane}/${e.run}`));
    const reversed = ofType(events, 'sale.reversed');
    expect(reversed.length).toBeGreaterThan(0);
    for (const r of reversed) expect(soldRuns.has(`${r.lane}/${r.run}`)).toBe(true);
  });
});

describe('audience, stream and heartbeats', () => {
  it('samples attendance every 5 s per lane, ramping up, plateauing at different levels, fading at the end', () => {
    const silent = incident(sale, 'source.silent');
    const plateaus: number[] = [];
    for (const lane of sale.lanes) {
      const samples = ofType(events, 'attendance').filter((e) => e.lane === lane);
      const gaps = new Set(samples.slice(1).map((e, i) => e.ts - (samples[i] as LaneEvent).ts));
      // A lane on the silent source loses the samples of its window: one longer gap.
      if (samples[0]?.source === silent.source) gaps.delete(silent.to - silent.from + 5000);
      expect(gaps).toEqual(new Set([5000]));
      const plateau = mean(onlineCounts(events, lane, START + 25 * MINUTE, START + 45 * MINUTE));
      plateaus.push(plateau);
      expect(mean(onlineCounts(events, lane, START, START + 5 * MINUTE))).toBeLessThan(0.6 * plateau);
      expect(mean(onlineCounts(events, lane, START + 230 * MINUTE, START + 240 * MINUTE))).toBeLessThan(0.7 * plateau);
    }
    expect(Math.min(...plateaus)).toBeGreaterThan(12);
    expect(Math.max(...plateaus)).toBeLessThan(90);
    expect(Math.max(...plateaus) / Math.min(...plateaus)).toBeGreaterThan(2);
    const ratio = mean(ofType(events, 'attendance').map((e) => (e.watching as number) / Math.max(1, e.online)));
    expect(ratio).toBeGreaterThan(2);
    expect(ratio).toBeLessThan(3);
  });

  it('reports stream health every 10 s per lane at ~0.7–1.5 s latency when nothing is wrong', () => {
    const lag = incident(sale, 'stream.lag');
    const healthy = ofType(events, 'stream.health').filter((e) => !(e.lane === lag.lane && e.ts >= lag.from));
    const delays = healthy.map((e) => e.latencyMs).sort((a, b) => a - b);
    expect(median(delays)).toBeGreaterThan(800);
    expect(median(delays)).toBeLessThan(1200);
    expect(delays[Math.floor(delays.length * 0.05)]).toBeGreaterThan(600);
    expect(delays[Math.floor(delays.length * 0.95)]).toBeLessThan(1600);
    const silent = incident(sale, 'source.silent');
    for (const lane of sale.lanes) {
      const samples = ofType(events, 'stream.health').filter((e) => e.lane === lane);
      const gaps = new Set(samples.slice(1).map((e, i) => e.ts - (samples[i] as LaneEvent).ts));
      // A lane on the silent source loses the samples of its (2-minute) window: one longer gap.
      if (samples[0]?.source === silent.source) gaps.delete(silent.to - silent.from + 10_000);
      expect(gaps).toEqual(new Set([10_000]));
    }
  });

  it('sends a heartbeat per source every 5 s, without a lane', () => {
    const silent = incident(sale, 'source.silent');
    for (const source of sale.sources) {
      const beats = ofType(events, 'heartbeat').filter((e) => e.source === source);
      expect(beats.every((e) => e.lane === undefined)).toBe(true);
      const lost = source === silent.source ? (silent.to - silent.from) / 5000 : 0;
      expect(beats).toHaveLength((4 * HOUR) / 5000 - 1 - lost);
    }
  });
});

describe('scripted incidents are labelled and visible in the data', () => {
  it('labels five incidents at fixed fractions of the sale, on three different lanes', () => {
    const windows = sale.incidents.map(({ kind, from, to }) => ({
      kind,
      from: (from - START) / MINUTE,
      to: (to - START) / MINUTE,
    }));
    expect(windows).toEqual([
      { kind: 'attendance.collapse', from: 48, to: 65 },
      { kind: 'stream.lag', from: 96, to: 106 },
      { kind: 'lane.stall', from: 132, to: 138 },
      { kind: 'source.silent', from: 168, to: 170 },
      { kind: 'sale.fade', from: 192, to: 240 },
    ]);
    const lanes = sale.incidents.slice(0, 3).map((i) => i.lane);
    expect(new Set(lanes).size).toBe(3);
    expect(sale.sources).toContain(incident(sale, 'source.silent').source);
  });

  it('attendance.collapse: the lane drops below half of its level for the window, then recovers', () => {
    const { lane, from, to } = incident(sale, 'attendance.collapse');
    const before = mean(onlineCounts(events, lane, from - 10 * MINUTE, from));
    const during = mean(onlineCounts(events, lane, from + MINUTE, to - MINUTE));
    const after = mean(onlineCounts(events, lane, to + 2 * MINUTE, to + 12 * MINUTE));
    expect(during / before).toBeLessThan(0.45);
    expect(during / before).toBeGreaterThan(0.15);
    expect(after / before).toBeGreaterThan(0.85);
  });

  it('stream.lag: 4–6 s latency on the lane throughout, while its attendance slides', () => {
    const { lane, from, to } = incident(sale, 'stream.lag');
    const lagging = ofType(events, 'stream.health').filter((e) => e.lane === lane && e.ts >= from && e.ts < to);
    expect(lagging).toHaveLength((to - from) / 10_000);
    expect(lagging.every((e) => e.latencyMs >= 4000 && e.latencyMs <= 6000)).toBe(true);
    const before = mean(onlineCounts(events, lane, from - 5 * MINUTE, from));
    const late = mean(onlineCounts(events, lane, to - 3 * MINUTE, to));
    expect(late / before).toBeLessThan(0.92);
  });

  it('lane.stall: no vehicle on the block for the window while attendance and stream go on', () => {
    const { lane, from, to } = incident(sale, 'lane.stall');
    const laneRuns = runs.filter((r) => r.lane === lane);
    expect(laneRuns.some((r) => r.up.ts < to && r.outcome.ts > from)).toBe(false);
    expect(ofType(events, 'vehicle.up').some((e) => e.lane === lane && e.ts >= from && e.ts < to)).toBe(false);
    expect(ofType(events, 'vehicle.up').some((e) => e.lane === lane && e.ts === to)).toBe(true);
    expect(onlineCounts(events, lane, from, to)).toHaveLength((to - from) / 5000);
  });

  it('source.silent: the source sends nothing in the window; cut-short runs end at the next vehicle.up', () => {
    const { source, from, to } = incident(sale, 'source.silent');
    expect(events.filter((e) => e.source === source && e.ts >= from && e.ts < to)).toEqual([]);
    const other = sale.sources.find((s) => s !== source);
    expect(events.filter((e) => e.source === other && e.ts >= from && e.ts < to).length).toBeGreaterThan(100);
    const silentLanes = new Set(
      ofType(events, 'lane.opened')
        .filter((e) => e.source === source)
        .map((e) => e.lane),
    );
    const finished = new Set(runs.map((r) => r.up));
    const cutShort = ofType(events, 'vehicle.up').filter((up) => silentLanes.has(up.lane) && !finished.has(up));
    expect(cutShort.every((up) => up.ts < from && up.ts > from - 5 * MINUTE)).toBe(true);
    expect(cutShort.length).toBeGreaterThan(0);
  });

  it('sale.fade: the whole sale loses ~40 % over its last fifth, on top of the usual end fade', () => {
    const { from, to } = incident(sale, 'sale.fade');
    const before = mean(onlineCounts(events, undefined, from - 20 * MINUTE, from));
    const last = mean(onlineCounts(events, undefined, to - 10 * MINUTE, to));
    expect(last / before).toBeLessThan(0.6);
    expect(last / before).toBeGreaterThan(0.3);
  });
});

describe('sale sizes', () => {
  it('runs a single lane on one source, with every lane incident on it', () => {
    const one = simulateSale(config({ lanes: 1, durationMin: 60 }));
    const oneEvents = [...one.events()];
    expect(one.sources).toEqual(['sim-1']);
    expect(one.incidents.filter((i) => i.lane !== undefined).every((i) => i.lane === '1')).toBe(true);
    expect(oneEvents.map(parseEvent).every((r) => r.ok)).toBe(true);
    expect(finishedRuns(oneEvents).length).toBeGreaterThan(40);
    expect(ofType(oneEvents, 'lane.staff')).toHaveLength(1);
  });

  it('fits all five incidents, without overlaps, into a 10-minute sale', () => {
    const short = simulateSale(config({ durationMin: 10 }));
    const shortEvents = [...short.events()];
    expect(shortEvents.map(parseEvent).every((r) => r.ok)).toBe(true);
    const windows = [...short.incidents].sort((a, b) => a.from - b.from);
    expect(windows).toHaveLength(5);
    for (const [i, w] of windows.entries()) {
      expect(w.from).toBeGreaterThanOrEqual(short.start);
      expect(w.to).toBeLessThanOrEqual(short.end);
      expect(w.to).toBeGreaterThan(w.from);
      if (i > 0) expect(w.from).toBeGreaterThanOrEqual((windows[i - 1] as Incident).to);
    }
    expect(finishedRuns(shortEvents).length).toBeGreaterThan(40);
  });

  it('opens and closes every lane of a 1-minute sale, too short for any vehicle', () => {
    const tiny = [...simulateSale(config({ durationMin: 1 })).events()];
    expect(tiny.map(parseEvent).every((r) => r.ok)).toBe(true);
    expect(ofType(tiny, 'lane.closed')).toHaveLength(8);
    expect(ofType(tiny, 'vehicle.up')).toEqual([]);
    expect(tiny.at(-1)).toMatchObject({ type: 'sale.closed', ts: START + MINUTE });
  });

  it('runs 64 lanes on 16 sources', () => {
    const wide = simulateSale(config({ lanes: 64, durationMin: 20 }));
    const wideEvents = [...wide.events()];
    expect(wide.sources).toHaveLength(16);
    expect(wideEvents.map(parseEvent).every((r) => r.ok)).toBe(true);
    expect(new Set(ofType(wideEvents, 'vehicle.up').map((e) => e.lane)).size).toBe(64);
  });

  it('streams a 64-lane 10-hour sale (>1 M events) without holding it in memory', () => {
    // Live memory only: a full collection before each reading, so short-lived garbage does not count.
    setFlagsFromString('--expose-gc');
    const collectGarbage = runInNewContext('gc') as () => void;
    const liveHeap = () => {
      collectGarbage();
      return process.memoryUsage().heapUsed;
    };
    const big = simulateSale(config({ lanes: 64, durationMin: 600 }));
    const baseline = liveHeap();
    let count = 0;
    let peak = 0;
    const started = performance.now();
    for (const event of big.events()) {
      if (++count % 250_000 === 0) peak = Math.max(peak, liveHeap() - baseline);
      if (event.ts > big.end) throw new Error('event after the sale');
    }
    const seconds = (performance.now() - started) / 1000;
    console.info(
      `64 lanes × 10 h: ${count} events in ${seconds.toFixed(2)} s, live heap growth ≤ ${(peak / 1e6).toFixed(1)} MB`,
    );
    expect(count).toBeGreaterThan(1_000_000);
    // Holding the events would take a few hundred bytes each, several hundred MB in all.
    expect(peak).toBeLessThan(8e6);
  });
});

describe('SimulatorSource', () => {
  const short = simulateSale(config({ lanes: 2, durationMin: 10 }));
  const all = [...short.events()];

  async function play(
    source: SimulatorSource,
    signal = new AbortController().signal,
    onEvent?: (e: LaneEvent) => void,
  ) {
    const seen: LaneEvent[] = [];
    for await (const message of source.messages(signal)) {
      seen.push(message as LaneEvent);
      onEvent?.(message as LaneEvent);
    }
    return seen;
  }

  it('releases each event at start + (ts − sale start) / speed', async () => {
    const { clock } = fakeClock();
    const source = new SimulatorSource(short, 60, clock);
    expect(source.name).toBe('simulator');
    const releasedAt: number[] = [];
    const seen = await play(source, undefined, () => releasedAt.push(clock.now()));
    expect(seen).toEqual(all);
    seen.forEach((e, i) => expect(releasedAt[i]).toBeCloseTo(1_000 + (e.ts - short.start) / 60, 6));
    expect(clock.now() - 1_000).toBeCloseTo((short.end - short.start) / 60, 6);
  });

  it('releases everything already due without sleeping when the consumer falls behind', async () => {
    const { clock, sleeps, advance } = fakeClock();
    const early: LaneEvent[] = [];
    // Each event takes the consumer 1 s: far slower than the 10-minute sale at 60× (10 s of wall time).
    const seen = await play(new SimulatorSource(short, 60, clock), undefined, (e) => {
      if (clock.now() - 1_000 < (e.ts - short.start) / 60) early.push(e);
      advance(1_000);
    });
    expect(seen).toEqual(all);
    expect(sleeps).toEqual([]);
    expect(early).toEqual([]);
  });

  it('does not drift when timers fire late: lateness never accumulates', async () => {
    const { clock } = fakeClock(7);
    const lateness: number[] = [];
    const source = new SimulatorSource(short, 60, clock);
    await play(source, undefined, () => lateness.push(clock.now() - 1_000));
    const seen = all.map((e, i) => (lateness[i] as number) - (e.ts - short.start) / 60);
    expect(Math.max(...seen)).toBeLessThanOrEqual(7 + 1e-6);
  });

  it('plays as fast as pulled at speed 0, never sleeping', async () => {
    const { clock, sleeps } = fakeClock();
    expect(await play(new SimulatorSource(short, 0, clock))).toEqual(all);
    expect(sleeps).toEqual([]);
  });

  it('stops promptly when aborted while waiting for the next event', async () => {
    const controller = new AbortController();
    const started = performance.now();
    setTimeout(() => controller.abort(), 30);
    const seen = await play(new SimulatorSource(short, 1), controller.signal);
    expect(performance.now() - started).toBeLessThan(500);
    expect(seen.every((e) => e.ts === short.start)).toBe(true);
    expect(seen.length).toBeGreaterThan(0);
  });

  it('lets an abort in even while catching up at speed 0', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 0);
    const seen = await play(new SimulatorSource(simulateSale(config()), 0), controller.signal);
    expect(seen.length).toBeLessThan(events.length);
  });
});

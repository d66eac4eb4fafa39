/**
 * Pure views of the engine state at a given event time: the lane figures and snapshots and the
 * sale totals the server sends to screens. Every figure is defined in ../shared/METRICS.md.
 */
import type { AttendanceSeries, LaneFigures, LaneSnapshot, RunFigures, SaleInfo, SaleTotals } from '../wire';
import type { SaleState } from './engine';
import { ATTENDANCE_SPAN_MS, type LaneState } from './lane';
import { RunTally } from './tally';
import { median, percent, percentile, ratio } from './windows';

const MIN = 60_000;

export interface SnapshotOptions {
  /** A lane with no event (or source heartbeat) for longer than this is stale. */
  staleAfterSec: number;
  /** The attendance baseline's look-back, excluding its last minute. */
  baselineWindowMin: number;
  /** Bucket width of the 30-minute attendance chart. */
  chartStepSec: number;
}

export const DEFAULT_SNAPSHOT_OPTIONS: SnapshotOptions = { staleAfterSec: 15, baselineWindowMin: 10, chartStepSec: 15 };

/**
 * A lane's figures at `now`, without the 30-minute attendance chart. Cheap enough to call every
 * event-time second per lane (the history recorder does): its cost is bounded by the windows'
 * spans, never by the sale's length.
 */
export function laneFigures(
  lane: LaneState,
  sale: SaleState,
  now: number,
  options: SnapshotOptions = DEFAULT_SNAPSHOT_OPTIONS,
): LaneFigures {
  const openedAt = lane.openedAt ?? lane.firstEventAt ?? now;
  const end = lane.closedAt ?? now;
  const openMs = Math.max(0, end - openedAt);
  const baseline = median(valuesBetween(lane, now - options.baselineWindowMin * MIN, now - MIN));
  const heartbeat = lane.source === null ? undefined : sale.sourceHeartbeats.get(lane.source);
  const newest = Math.max(lane.lastEventAt ?? -Infinity, heartbeat ?? -Infinity);
  const feedAgeSec = Number.isFinite(newest) ? Math.max(0, (now - newest) / 1000) : null;
  const latencies = lane.clerkLatenciesMs.values();
  const bids5 = channelCounts(lane, end - 5 * MIN, end);
  const bids15 = channelCounts(lane, end - 15 * MIN, end);
  const bidMinutes = Math.min(5 * MIN, openMs) / MIN;
  const runsLastHour = lane.finishedAt.countBetween(end - 60 * MIN, end + 1);
  const run = lane.run;
  const state = lane.showsOpen ? 'open' : 'closed';
  const { tally } = lane;
  // The lane shows bid share and missed bids with their rolling windows, so it takes the rest.
  const { onlineBidShare: _share, missedOnlineBids: _missed, ...outcomes } = runFigures(tally);

  return {
    auction: lane.auction,
    sale: lane.sale,
    lane: lane.lane,
    auctioneer: lane.auctioneer,
    clerk: lane.clerk,
    state,
    stale: state === 'open' && feedAgeSec !== null && feedAgeSec > options.staleAfterSec,
    run: run && {
      run: run.run,
      vehicle: run.vehicle,
      upAt: run.upAt,
      highBid: run.bids.at(-1)?.amount ?? null,
      bids: run.bids.length,
    },
    recentBids: lane.recentBids.map((b) => ({ ts: b.ts, amount: b.amount, channel: b.channel })),
    onlineBidders: lane.online,
    onlineBiddersPeak: lane.onlinePeak,
    attendanceBaseline: baseline,
    attendanceChangePct: lane.online === null || !baseline ? null : (lane.online / baseline - 1) * 100,
    distinctOnlineBidders: lane.distinctBidders.size,
    bidsPerMin: {
      online: bidMinutes > 0 ? bids5.online / bidMinutes : 0,
      floor: bidMinutes > 0 ? bids5.floor / bidMinutes : 0,
      proxy: bidMinutes > 0 ? bids5.proxy / bidMinutes : 0,
    },
    onlineBidShare: {
      saleToDate: ratio(tally.bids.online, total(tally.bids)),
      last15Min: ratio(bids15.online, total(bids15)),
    },
    secondsPerVehicle: seconds(median(lane.runDurationsMs.values())),
    carsPerHour: openMs === 0 ? null : openMs < 60 * MIN ? (runsLastHour * 60 * MIN) / openMs : runsLastHour,
    idleSeconds: run || state === 'closed' ? null : Math.max(0, (now - (lane.lastOutcomeAt ?? openedAt)) / 1000),
    timeToFirstBidSec: seconds(median(lane.firstBidDelaysMs.values())),
    ...outcomes,
    priceToMmrPct: lane.priceToMmr.median(),
    clerkLatencyMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95) },
    missedOnlineBids: { sale: tally.missedOnlineBids, last10Min: lane.missed.countBetween(now - 10 * MIN, now + 1) },
    hammerLeadSec: seconds(median(lane.hammerLeadsMs.values())),
    blockErrorsPer100: per100(tally.blockErrors, tally.offered),
    feedGaps: lane.seqGaps.lost,
    lateEvents: lane.lateEvents,
    streamLatencyMs: lane.streamLatencyMs,
    feedAgeSec,
  };
}

/** A lane's figures and its attendance chart: one tile of the wall display. */
export function laneSnapshot(
  lane: LaneState,
  sale: SaleState,
  now: number,
  options: SnapshotOptions = DEFAULT_SNAPSHOT_OPTIONS,
): LaneSnapshot {
  return {
    ...laneFigures(lane, sale, now, options),
    attendance: laneBuckets(lane, now - ATTENDANCE_SPAN_MS, now, options.chartStepSec * 1000),
  };
}

export function saleInfo(sale: SaleState): SaleInfo {
  return {
    auction: sale.auction,
    sale: sale.sale,
    name: sale.name,
    state: sale.open ? 'open' : 'closed',
    openedAt: sale.openedAt,
    ...(sale.closedAt === null ? {} : { closedAt: sale.closedAt }),
    lanes: sale.lanes.size,
  };
}

/** Sale totals at `now`; `lanes` are the sale's snapshots at the same time (for the stale count). */
export function saleTotals(sale: SaleState, lanes: readonly LaneFigures[], now: number): SaleTotals {
  const { tally, feedGaps } = saleCounts(sale);
  return {
    ...saleInfo(sale),
    ...runFigures(tally),
    asOf: now,
    onlineBidders: sale.attendance.current,
    onlineBiddersPeak: sale.attendance.peak,
    onlineBiddersAverage: sale.attendance.averageBetween(sale.openedAt, sale.closedAt ?? now),
    blockErrors: tally.blockErrors,
    blockErrorsPer100: per100(tally.blockErrors, tally.offered),
    feedGaps,
    lateEvents: sale.lateEvents,
    staleLanes: lanes.reduce((n, lane) => n + (lane.stale ? 1 : 0), 0),
  };
}

/** The sale's run and bid counts and its lost messages, summed over its lanes. */
export function saleCounts(sale: SaleState): { tally: RunTally; feedGaps: number } {
  const tally = new RunTally();
  let feedGaps = 0;
  for (const lane of sale.lanes.values()) {
    tally.add(lane.tally);
    feedGaps += lane.seqGaps.lost;
  }
  return { tally, feedGaps };
}

/** The figures every set of runs has, from its counts. */
export function runFigures(tally: RunTally): RunFigures {
  return {
    offered: tally.offered,
    sold: tally.sold,
    ifSale: tally.ifSale,
    noSale: tally.noSale,
    unresolved: tally.unresolved,
    saleThroughPct: percent(tally.sold, tally.offered),
    conversionPct: percent(tally.sold + tally.ifSale, tally.offered),
    onlineBuyerPct: percent(tally.soldOnline, tally.sold),
    grossSales: tally.grossSales,
    bidsPerVehicle: ratio(tally.bidsInFinishedRuns, tally.offered),
    bids: { ...tally.bids },
    onlineBidShare: ratio(tally.bids.online, total(tally.bids)),
    onlineParticipationPct: percent(tally.runsWithOnlineBid, tally.offered),
    missedOnlineBids: tally.missedOnlineBids,
  };
}

export function per100(count: number, runs: number): number | null {
  return runs === 0 ? null : (count / runs) * 100;
}

/** The sale's lanes in lane order ("2" before "10"). */
export function saleLanes(sale: SaleState, now: number, options?: SnapshotOptions): LaneSnapshot[] {
  return [...sale.lanes.values()]
    .sort((a, b) => a.lane.localeCompare(b.lane, undefined, { numeric: true }))
    .map((lane) => laneSnapshot(lane, sale, now, options));
}

function valuesBetween(lane: LaneState, from: number, to: number): number[] {
  const values: number[] = [];
  lane.attendance.forEachBetween(from, to, (online) => values.push(online));
  return values;
}

function channelCounts(lane: LaneState, from: number, to: number) {
  const counts = { online: 0, floor: 0, proxy: 0 };
  lane.bids.forEachBetween(from, to + 1, (channel) => counts[channel]++);
  return counts;
}

/** A lane's attendance samples from `from` to `to` (inclusive), the last of each `stepMs` bucket: chart-ready. */
export function laneBuckets(lane: LaneState, from: number, to: number, stepMs: number): AttendanceSeries {
  const series: AttendanceSeries = { ts: [], online: [] };
  lane.attendance.forEachBetween(from, to + 1, (online, ts) => {
    const bucket = Math.floor(ts / stepMs) * stepMs;
    if (series.ts.at(-1) === bucket) series.online[series.online.length - 1] = online;
    else {
      series.ts.push(bucket);
      series.online.push(online);
    }
  });
  return series;
}

function total(counts: { online: number; floor: number; proxy: number }): number {
  return counts.online + counts.floor + counts.proxy;
}

function seconds(ms: number | null): number | null {
  return ms === null ? null : ms / 1000;
}

/**
 * Pure views of the engine state at a given event time: the lane snapshots and sale totals the
 * server sends to screens. Every figure is defined in ../shared/METRICS.md.
 */
import type { AttendanceSeries, LaneSnapshot, SaleInfo, SaleTotals } from '../wire';
import type { SaleState } from './engine';
import { ATTENDANCE_SPAN_MS, type LaneState } from './lane';
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

export function laneSnapshot(
  lane: LaneState,
  sale: SaleState,
  now: number,
  options: SnapshotOptions = DEFAULT_SNAPSHOT_OPTIONS,
): LaneSnapshot {
  const openedAt = lane.openedAt ?? lane.firstEventAt ?? now;
  const openMs = Math.max(0, (lane.closedAt ?? now) - openedAt);
  const end = lane.closedAt ?? now;
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
  const state = lane.open || lane.openedAt === null ? 'open' : 'closed';

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
      saleToDate: ratio(lane.bidsToDate.online, total(lane.bidsToDate)),
      last15Min: ratio(bids15.online, total(bids15)),
    },
    secondsPerVehicle: seconds(median(lane.runDurationsMs.values())),
    carsPerHour: openMs === 0 ? null : openMs < 60 * MIN ? (runsLastHour * 60 * MIN) / openMs : runsLastHour,
    idleSeconds: run || state === 'closed' ? null : Math.max(0, (now - (lane.lastOutcomeAt ?? openedAt)) / 1000),
    timeToFirstBidSec: seconds(median(lane.firstBidDelaysMs.values())),
    bidsPerVehicle: ratio(lane.acceptedBidsInFinishedRuns, lane.offered),
    offered: lane.offered,
    sold: lane.sold,
    ifSale: lane.ifSale,
    noSale: lane.noSale,
    unresolved: lane.unresolved,
    saleThroughPct: percent(lane.sold, lane.offered),
    conversionPct: percent(lane.sold + lane.ifSale, lane.offered),
    onlineBuyerPct: percent(lane.soldOnline, lane.sold),
    grossSales: lane.grossSales,
    priceToMmrPct: priceToMmrPct(lane),
    clerkLatencyMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95) },
    missedOnlineBids: { sale: lane.missedOnlineBids, last10Min: lane.missed.countBetween(now - 10 * MIN, now + 1) },
    hammerLeadSec: seconds(median(lane.hammerLeadsMs.values())),
    onlineParticipationPct: percent(lane.runsWithOnlineBid, lane.offered),
    blockErrorsPer100: lane.offered === 0 ? null : (lane.blockErrors / lane.offered) * 100,
    feedGaps: lane.feedGaps,
    streamLatencyMs: lane.streamLatencyMs,
    feedAgeSec,
    attendance: attendanceChart(lane, now, options.chartStepSec * 1000),
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

/** Sale totals, summed from the lane snapshots so the header always agrees with the tiles. */
export function saleTotals(sale: SaleState, lanes: readonly LaneSnapshot[], now: number): SaleTotals {
  const sum = (pick: (lane: LaneSnapshot) => number) => lanes.reduce((acc, lane) => acc + pick(lane), 0);
  const bids = { online: 0, floor: 0, proxy: 0 };
  for (const state of sale.lanes.values()) {
    bids.online += state.bidsToDate.online;
    bids.floor += state.bidsToDate.floor;
    bids.proxy += state.bidsToDate.proxy;
  }
  const offered = sum((l) => l.offered);
  const sold = sum((l) => l.sold);
  return {
    ...saleInfo(sale),
    asOf: now,
    offered,
    sold,
    ifSale: sum((l) => l.ifSale),
    noSale: sum((l) => l.noSale),
    saleThroughPct: percent(sold, offered),
    grossSales: sum((l) => l.grossSales),
    onlineBidders: sum((l) => (l.state === 'open' ? (l.onlineBidders ?? 0) : 0)),
    bids,
    onlineBidShare: ratio(bids.online, total(bids)),
    missedOnlineBids: sum((l) => l.missedOnlineBids.sale),
    staleLanes: sum((l) => (l.stale ? 1 : 0)),
  };
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

/** The last sample of each `stepMs` bucket over the last 30 minutes, ready for the chart. */
function attendanceChart(lane: LaneState, now: number, stepMs: number): AttendanceSeries {
  const series: AttendanceSeries = { ts: [], online: [] };
  lane.attendance.forEachBetween(now - ATTENDANCE_SPAN_MS, now + 1, (online, ts) => {
    const bucket = Math.floor(ts / stepMs) * stepMs;
    if (series.ts.at(-1) === bucket) series.online[series.online.length - 1] = online;
    else {
      series.ts.push(bucket);
      series.online.push(online);
    }
  });
  return series;
}

function priceToMmrPct(lane: LaneState): number | null {
  const ratios: number[] = [];
  for (const outcome of lane.outcomes.values()) {
    if (outcome.kind === 'sold' && outcome.mmr) ratios.push((outcome.price / outcome.mmr) * 100);
  }
  return median(ratios);
}

function total(counts: { online: number; floor: number; proxy: number }): number {
  return counts.online + counts.floor + counts.proxy;
}

function seconds(ms: number | null): number | null {
  return ms === null ? null : ms / 1000;
}

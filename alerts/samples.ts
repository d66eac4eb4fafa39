/**
 * What the alert rules read: one sample per lane, feed connection and sale at an event time, and
 * the adapter that takes them from the metrics engine's state. The server builds a sale's sample
 * after each metric update and on its 1 s tick and hands it to `evaluateSale` (./evaluator).
 *
 * The adapter reads the engine state directly instead of calling `laneFigures`: the rules need a
 * dozen of its ~50 figures, and `laneFigures` costs ~50 µs a lane (bid rates, the chart baseline…),
 * too much to replay a sale second by second. The figures it does take use the same helpers and
 * windows as ../server/metrics/snapshot.ts; test/alerts-samples.test.ts pins that they agree.
 */
import type { SaleState } from '../server/metrics/engine';
import type { LaneState } from '../server/metrics/lane';
import { median, percentile } from '../server/metrics/windows';
import type { AlertConfig } from './config';

const MIN = 60_000;
/** Readings the rules may not have seen yet: an evaluation is due at least every second, this is slack. */
const UNSEEN_READINGS_MS = 30_000;

/** One `attendance` sample: connected online bidders at `ts`. */
export interface Reading {
  ts: number;
  online: number;
}

export interface LaneSample {
  auction: string;
  sale: string;
  lane: string;
  /** The feed connection the lane's events come on. */
  source: string | null;
  open: boolean;
  /** When the lane first opened (its first event if `lane.opened` was missed). */
  openedAt: number;
  /** Newest event of the lane itself; its source's heartbeats do not count (see rules/stale.ts). */
  newestEventAt: number | null;
  /** Attendance readings of the last `clearLevelSec` + 30 s, oldest first. */
  readings: Reading[];
  onlineBidders: number | null;
  streamLatencyMs: number | null;
  /** Messages lost on the lane's feed (seq jumps), sale to date. */
  feedGaps: number;
  auctioneer: string | null;
  clerk: string | null;
  /** When the vehicle now on the block went up; null when none is. */
  runUpAt: number | null;
  /** An online bidder has pressed on the vehicle now on the block. */
  runHasOnlineBid: boolean;
  lastOutcomeAt: number | null;
  /** Median run time of the last 10 finished runs. */
  secondsPerVehicle: number | null;
  hammerLeadSec: number | null;
  clerkLatencyP95Ms: number | null;
  /** Online bids the latency percentile is over (the last 20 at most). */
  clerkLatencyBids: number;
  missedOnlineBidsLast10Min: number;
  /** Finished runs, no-sales among them, and runs with an online bid, sale to date. */
  offered: number;
  noSale: number;
  runsWithOnlineBid: number;
}

/** A feed connection: the newest thing it sent, heartbeat or lane event. */
export interface SourceSample {
  source: string;
  newestEventAt: number | null;
  /** The sale is open and at least one of the source's lanes is. */
  open: boolean;
}

export interface SaleSample {
  auction: string;
  sale: string;
  open: boolean;
  openedAt: number;
  lanes: LaneSample[];
  sources: SourceSample[];
}

/** The sale's sample at event time `now`, straight from the engine state (read only). */
export function saleSample(sale: SaleState, now: number, config: AlertConfig): SaleSample {
  const lookbackMs = config['attendance.decline'].baseline.clearLevelSec * 1000 + UNSEEN_READINGS_MS;
  const lanes = [...sale.lanes.values()].map((lane) => laneSample(lane, sale.open, now, lookbackMs));
  const sources = new Map<string, SourceSample>();
  for (const [source, heartbeat] of sale.sourceHeartbeats) {
    sources.set(source, { source, newestEventAt: heartbeat, open: false });
  }
  for (const lane of lanes) {
    if (lane.source === null) continue;
    const known = sources.get(lane.source) ?? { source: lane.source, newestEventAt: null, open: false };
    known.newestEventAt = newest(known.newestEventAt, lane.newestEventAt);
    known.open ||= lane.open;
    sources.set(lane.source, known);
  }
  return {
    auction: sale.auction,
    sale: sale.sale,
    open: sale.open,
    openedAt: sale.openedAt,
    lanes,
    sources: [...sources.values()],
  };
}

function laneSample(lane: LaneState, saleOpen: boolean, now: number, lookbackMs: number): LaneSample {
  const readings: Reading[] = [];
  lane.attendance.forEachBetween(now - lookbackMs, now + 1, (online, ts) => readings.push({ ts, online }));
  const latencies = lane.clerkLatenciesMs.values();
  const { tally } = lane;
  return {
    auction: lane.auction,
    sale: lane.sale,
    lane: lane.lane,
    source: lane.source,
    open: saleOpen && lane.showsOpen,
    openedAt: lane.openedAt ?? lane.firstEventAt ?? now,
    newestEventAt: lane.lastEventAt,
    readings,
    onlineBidders: lane.online,
    streamLatencyMs: lane.streamLatencyMs,
    feedGaps: lane.seqGaps.lost,
    auctioneer: lane.auctioneer,
    clerk: lane.clerk,
    runUpAt: lane.run?.upAt ?? null,
    runHasOnlineBid: lane.run?.hadOnlineBid ?? false,
    lastOutcomeAt: lane.lastOutcomeAt,
    secondsPerVehicle: seconds(median(lane.runDurationsMs.values())),
    hammerLeadSec: seconds(median(lane.hammerLeadsMs.values())),
    clerkLatencyP95Ms: percentile(latencies, 95),
    clerkLatencyBids: latencies.length,
    missedOnlineBidsLast10Min: lane.missed.countBetween(now - 10 * MIN, now + 1),
    offered: tally.offered,
    noSale: tally.noSale,
    runsWithOnlineBid: tally.runsWithOnlineBid,
  };
}

function newest(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.max(a, b);
}

function seconds(ms: number | null): number | null {
  return ms === null ? null : ms / 1000;
}

/**
 * What the wall display shows besides its charts: a tile per lane, the alert ticker and the sales
 * board. Pure views of the engine state, the alerts and the sale summary at an event time; every
 * figure is the engine's (./metrics, METRICS.md) — this picks what the wall shows, rounds it to the
 * precision it is shown at (so a lane is only sent again when what it shows changes), and orders it.
 */
import { round as rounded } from '../alerts/rules/rule';
import type { Alert, AlertState, Severity } from '../alerts/types';
import type { SaleState } from './metrics/engine';
import type { LaneState } from './metrics/lane';
import { laneFigures, type SnapshotOptions } from './metrics/snapshot';
import type { AuctioneerRow, ClerkRow, LaneTile, SaleSummary, SalesBoard, TickerEntry, TileAlert } from './wire';

const MIN = 60_000;
/** The ticker keeps a resolved alert this long (event time). */
const TICKER_RESOLVED_MS = 15 * MIN;
const TICKER_LENGTH = 20;
/** Rows of each role the sales board sends: more than any screen has room for. */
const BOARD_ROWS = 10;

const QUIET: readonly AlertState[] = ['pending', 'recovering', 'flapping'];
/** The ticker's order: what needs someone first. */
const TICKER_ORDER: readonly AlertState[] = ['firing', 'flapping', 'recovering', 'pending', 'resolved'];

/**
 * One lane's tile at `now`. `alerts` are the lane's own and its feed connection's (`alertsOf`);
 * `staleAfterSec` is the lane's late limit when its `feed.stale` rule has not learned one yet.
 */
export function laneTile(
  lane: LaneState,
  sale: SaleState,
  now: number,
  options: SnapshotOptions,
  alerts: readonly Alert[],
): LaneTile {
  const f = laneFigures(lane, sale, now, options);
  const firing = alerts
    .filter((alert) => alert.state === 'firing')
    .sort(worstFirst)
    .map(tileAlert);
  const limitSec = alerts.find((alert) => alert.rule === 'feed.stale' && alert.lane === lane.lane)?.figures.limitSec;
  return {
    lane: f.lane,
    state: f.state,
    auctioneer: f.auctioneer,
    clerk: f.clerk,
    run: f.run,
    idleSince: f.idleSeconds === null ? null : (lane.lastOutcomeAt ?? lane.openedAt ?? lane.firstEventAt),
    recentBids: f.recentBids,
    onlineBidders: f.onlineBidders,
    onlineBiddersPeak: f.onlineBiddersPeak,
    attendanceChangePct: rounded(f.attendanceChangePct),
    bidsPerMin: {
      online: rounded(f.bidsPerMin.online, 1) as number,
      floor: rounded(f.bidsPerMin.floor, 1) as number,
      proxy: rounded(f.bidsPerMin.proxy, 1) as number,
    },
    secondsPerVehicle: rounded(f.secondsPerVehicle),
    carsPerHour: rounded(f.carsPerHour),
    hammerLeadSec: rounded(f.hammerLeadSec, 1),
    offered: f.offered,
    sold: f.sold,
    saleThroughPct: rounded(f.saleThroughPct),
    onlineBuyerPct: rounded(f.onlineBuyerPct),
    clerkLatencySec: { p50: seconds(f.clerkLatencyMs.p50), p95: seconds(f.clerkLatencyMs.p95) },
    missedOnlineBids: f.missedOnlineBids,
    dataAt: lane.lastEventAt,
    lateAfterSec: limitSec ?? options.staleAfterSec,
    worst: firing[0]?.severity ?? null,
    firing,
    quiet: alerts
      .filter((alert) => QUIET.includes(alert.state))
      .sort(worstFirst)
      .map(tileAlert),
  };
}

/** Each lane's alerts: its own, and its feed connection's (a dead connection is its lanes' trouble). */
export function alertsOf(lanes: Iterable<LaneState>, alerts: readonly Alert[]): Map<string, Alert[]> {
  const byLane = new Map<string, Alert[]>();
  for (const lane of lanes) {
    byLane.set(
      lane.lane,
      alerts.filter((alert) => alert.lane === lane.lane || (alert.scope === 'source' && alert.source === lane.source)),
    );
  }
  return byLane;
}

/** The sale's alerts that matter now, in the order the ticker shows them; resolved ones for 15 min. */
export function alertTicker(alerts: readonly Alert[], now: number): TickerEntry[] {
  return alerts
    .filter((alert) =>
      alert.state === 'resolved'
        ? (alert.resolvedAt ?? alert.since) >= now - TICKER_RESOLVED_MS
        : TICKER_ORDER.includes(alert.state),
    )
    .sort(
      (a, b) =>
        TICKER_ORDER.indexOf(a.state) - TICKER_ORDER.indexOf(b.state) ||
        severityRank(a.severity) - severityRank(b.severity) ||
        b.since - a.since,
    )
    .slice(0, TICKER_LENGTH)
    .map((alert) => ({
      key: alert.key,
      rule: alert.rule,
      severity: alert.severity,
      state: alert.state,
      lane: alert.lane ?? null,
      message: alert.message,
      since: alert.since,
      acknowledgedBy: alert.acknowledgedBy ?? null,
    }));
}

/** The day's sales board from the sale summary: auctioneers by cars sold, clerks by latency. */
export function salesBoard(summary: SaleSummary): SalesBoard {
  const auctioneers = [...summary.auctioneers]
    .sort((a, b) => b.sold - a.sold || (b.saleThroughPct ?? -1) - (a.saleThroughPct ?? -1))
    .slice(0, BOARD_ROWS)
    .map((person): AuctioneerRow => ({
      name: person.name,
      lanes: person.lanes,
      sold: person.sold,
      offered: person.offered,
      saleThroughPct: rounded(person.saleThroughPct),
      carsPerHour: rounded(person.carsPerHour),
      onlineBuyerPct: rounded(person.onlineBuyerPct),
      meanHammerLeadSec: rounded(person.meanHammerLeadSec, 1),
    }));
  const clerks = [...summary.clerks]
    .sort((a, b) => (a.meanClerkLatencyMs ?? Infinity) - (b.meanClerkLatencyMs ?? Infinity) || b.offered - a.offered)
    .slice(0, BOARD_ROWS)
    .map((person): ClerkRow => ({
      name: person.name,
      lanes: person.lanes,
      offered: person.offered,
      meanClerkLatencySec: seconds(person.meanClerkLatencyMs),
      missedOnlineBids: person.missedOnlineBids,
      blockErrorsPer100: rounded(person.blockErrorsPer100, 1),
    }));
  return { auctioneers, clerks, auctioneerCount: summary.auctioneers.length, clerkCount: summary.clerks.length };
}

function tileAlert(alert: Alert): TileAlert {
  return {
    rule: alert.rule,
    severity: alert.severity,
    state: alert.state,
    message: alert.message,
    acknowledgedBy: alert.acknowledgedBy ?? null,
  };
}

function worstFirst(a: Alert, b: Alert): number {
  return severityRank(a.severity) - severityRank(b.severity) || b.since - a.since;
}

function severityRank(severity: Severity): number {
  return severity === 'critical' ? 0 : 1;
}

/** Milliseconds as seconds to a tenth, as the wall shows latencies. */
function seconds(ms: number | null): number | null {
  return ms === null ? null : rounded(ms / 1000, 1);
}

/**
 * Everything that crosses the wire between the server and its screens: REST payloads and the
 * socket.io event maps of the `/live` namespace (../shared/API.md). Types only — the UI imports
 * this file with `import type`, so server and UI cannot drift.
 */

export interface CurrentRun {
  run: number;
  /** Year, make and model only: the wall display never shows a VIN, seller or bidder. */
  vehicle: string | null;
  upAt: number;
  highBid: number | null;
  bids: number;
}

/** The latest bids of the lane, newest first, for the tile's bid strip. */
export interface RecentBid {
  ts: number;
  amount: number;
  channel: 'online' | 'floor' | 'proxy';
}

/** Chart-ready columns: `ts[i]` (ms) pairs with `online[i]`. */
export interface AttendanceSeries {
  ts: number[];
  online: number[];
}

export interface ChannelRates {
  online: number;
  floor: number;
  proxy: number;
}

/**
 * One lane's live figures (definitions: ../shared/METRICS.md). `null` = not enough data yet.
 * Every `…Pct` is a percentage 0–100; shares are 0–1; money is whole US dollars.
 */
export interface LaneSnapshot {
  auction: string;
  sale: string;
  lane: string;
  auctioneer: string | null;
  clerk: string | null;
  state: 'open' | 'closed';
  /** No event from the lane or its source for longer than the configured limit. */
  stale: boolean;
  run: CurrentRun | null;
  recentBids: RecentBid[];
  onlineBidders: number | null;
  onlineBiddersPeak: number | null;
  attendanceBaseline: number | null;
  /** onlineBidders vs baseline, in percent (−30 = 30 % below). */
  attendanceChangePct: number | null;
  distinctOnlineBidders: number;
  bidsPerMin: ChannelRates;
  /** Online accepted bids ÷ all accepted bids, 0–1. */
  onlineBidShare: { saleToDate: number | null; last15Min: number | null };
  secondsPerVehicle: number | null;
  carsPerHour: number | null;
  idleSeconds: number | null;
  timeToFirstBidSec: number | null;
  bidsPerVehicle: number | null;
  offered: number;
  sold: number;
  ifSale: number;
  noSale: number;
  unresolved: number;
  saleThroughPct: number | null;
  conversionPct: number | null;
  onlineBuyerPct: number | null;
  grossSales: number;
  priceToMmrPct: number | null;
  clerkLatencyMs: { p50: number | null; p95: number | null };
  missedOnlineBids: { sale: number; last10Min: number };
  hammerLeadSec: number | null;
  onlineParticipationPct: number | null;
  blockErrorsPer100: number | null;
  feedGaps: number;
  streamLatencyMs: number | null;
  feedAgeSec: number | null;
  /** Online bidders over the last 30 min. */
  attendance: AttendanceSeries;
}

/** An entry of `GET /api/sales`, which lists them newest first. */
export interface SaleInfo {
  auction: string;
  sale: string;
  name: string;
  state: 'open' | 'closed';
  openedAt: number;
  closedAt?: number;
  /** Number of lanes seen in the sale. */
  lanes: number;
}

export interface SaleTotals extends SaleInfo {
  /** Event time the figures are computed at. */
  asOf: number;
  offered: number;
  sold: number;
  ifSale: number;
  noSale: number;
  saleThroughPct: number | null;
  grossSales: number;
  onlineBidders: number;
  bids: ChannelRates;
  onlineBidShare: number | null;
  missedOnlineBids: number;
  staleLanes: number;
}

export interface Health {
  status: 'ok' | 'degraded';
  influx: boolean;
  redis: boolean;
  /** How far the server's processing trails the newest event on the Redis stream. */
  streamLagMs: number | null;
}

/** The one envelope every socket acknowledgement uses. */
export type Ack<T> = { ok: true; data: T } | { ok: false; error: string };

export interface WatchRequest {
  sale: string;
}

export interface ServerToClientEvents {
  /** Lane snapshots of the watched sale: all lanes on `watch`, then only changed lanes, ≤ 1/s. */
  lanes: (lanes: LaneSnapshot[]) => void;
  /** Sale totals of the watched sale, ≤ 1/s. */
  sale: (totals: SaleTotals) => void;
}

export interface ClientToServerEvents {
  /** Safe to repeat (clients re-send it on every reconnect); each call answers with the full picture. */
  watch: (request: WatchRequest, ack: (reply: Ack<WatchRequest>) => void) => void;
}

/**
 * Everything that crosses the wire between the server and its screens: REST payloads and the
 * socket.io event maps of the `/live` namespace (../shared/API.md). Types only — the UI imports
 * this file with `import type`, so server and UI cannot drift.
 */
import type { AlertRule, AlertState, AlertTransition, Severity } from '../alerts/types';

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
export interface LaneSnapshot extends OutcomeFigures {
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
  /** Accepted bids by channel, sale to date (a retraction takes one back). */
  bids: ChannelRates;
  bidsPerMin: ChannelRates;
  /** Online accepted bids ÷ all accepted bids, 0–1. */
  onlineBidShare: { saleToDate: number | null; last15Min: number | null };
  secondsPerVehicle: number | null;
  carsPerHour: number | null;
  idleSeconds: number | null;
  timeToFirstBidSec: number | null;
  bidsPerVehicle: number | null;
  priceToMmrPct: number | null;
  clerkLatencyMs: { p50: number | null; p95: number | null };
  missedOnlineBids: { sale: number; last10Min: number };
  hammerLeadSec: number | null;
  onlineParticipationPct: number | null;
  blockErrorsPer100: number | null;
  feedGaps: number;
  /** Events that arrived later than the reorder window (applied where still possible). */
  lateEvents: number;
  streamLatencyMs: number | null;
  feedAgeSec: number | null;
  /** Online bidders over the last 30 min. */
  attendance: AttendanceSeries;
}

/** A lane's figures without its attendance chart: what the history recorder stores each second. */
export type LaneFigures = Omit<LaneSnapshot, 'attendance'>;

/** How the runs of a lane, a person, a sale or a site ended. */
export interface OutcomeFigures {
  offered: number;
  sold: number;
  ifSale: number;
  noSale: number;
  unresolved: number;
  saleThroughPct: number | null;
  conversionPct: number | null;
  onlineBuyerPct: number | null;
  grossSales: number;
}

/** Run and bid figures over a set of runs: a sale, a site, or one person's share of a sale. */
export interface RunFigures extends OutcomeFigures {
  /** Mean accepted bids per finished run. */
  bidsPerVehicle: number | null;
  /** Accepted bids by channel (counts). */
  bids: ChannelRates;
  /** Online accepted bids ÷ all accepted bids, 0–1. */
  onlineBidShare: number | null;
  onlineParticipationPct: number | null;
  missedOnlineBids: number;
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

/** What a sale's and a site's totals add to their run figures. */
export interface CrowdAndQuality {
  /** Online bidders summed over the open lanes (of a site: of its open sales), now. */
  onlineBidders: number;
  /** The highest that sum has been (of a site: the highest peak of any of its sales). */
  onlineBiddersPeak: number;
  /** That sum's time-weighted mean over the open time (of a site: over all its sales' open time). */
  onlineBiddersAverage: number | null;
  blockErrors: number;
  blockErrorsPer100: number | null;
  feedGaps: number;
  lateEvents: number;
}

export interface SaleTotals extends SaleInfo, RunFigures, CrowdAndQuality {
  /** Event time the figures are computed at. */
  asOf: number;
  staleLanes: number;
}

/**
 * One auctioneer's or clerk's figures over the runs and bids attributed to them in a sale (the
 * attribution rule is in server/metrics/tally.ts). Where the lane takes a median of its last runs,
 * a person's figure is the exact mean over all of theirs.
 */
export interface StaffFigures extends RunFigures {
  name: string;
  /** Lanes they worked in the sale, in lane order. */
  lanes: string[];
  /** Time on a lane, open shifts counted up to now. */
  workedMin: number;
  /** Finished runs per hour worked. */
  carsPerHour: number | null;
  meanSecondsPerVehicle: number | null;
  meanTimeToFirstBidSec: number | null;
  meanHammerLeadSec: number | null;
  meanClerkLatencyMs: number | null;
}

/** A clerk's row adds the block errors, which are the clerk's alone. */
export interface ClerkFigures extends StaffFigures {
  blockErrors: number;
  blockErrorsPer100: number | null;
}

/** `GET /api/sales/:sale/summary`. */
export interface SaleSummary extends SaleTotals {
  auctioneers: StaffFigures[];
  clerks: ClerkFigures[];
}

/** `GET /api/auctions/:auction/summary`: the site's sales rolled up. */
export interface SiteSummary extends RunFigures, CrowdAndQuality {
  auction: string;
  sales: number;
  openSales: number;
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
  /**
   * `wall`: the wall display's view — `wall` deltas (tiles and charts) instead of `lanes`. Without
   * it the client gets `lanes` snapshots as API.md describes.
   */
  view?: 'wall';
  /**
   * Wall view only: the screen already holds charts from before a disconnect. Its first `wall`
   * delta then carries chart points from `liveFrom` on only; the screen fills the gap from the
   * history API before it applies live deltas.
   */
  resume?: boolean;
}

export interface WatchReply {
  sale: string;
  /** Wall view: chart points from this event time on come live; older ones, after a resume, from history. */
  liveFrom?: number;
  /** Wall view: the width of a lane chart's buckets (the history API's `step` for a backfill). */
  chartStepSec?: number;
}

// ── The wall display's view (watch with `view: 'wall'`) ─────────────────────────────────────────

/** The server is alive and watching: every second, to every screen watching a sale. */
export interface Heartbeat {
  sale: string;
  /** The sale's event-time now (server/clock.ts): lane data older than this by a lane's limit is late. */
  now: number;
  /** The wall display build the server serves now; a kiosk reloads when it changes. null: none built. */
  build: string | null;
}

/** An alert as a span on a chart, from firing to resolved (`to` null: still open). Event time. */
export interface AlertMarker {
  key: string;
  rule: AlertRule;
  severity: Severity;
  from: number;
  to: number | null;
}

/**
 * The attendance alert's baseline as steps, one a minute: from `ts[i]` to `ts[i + 1]` (the last
 * step to the chart's end) the rule expected `expected[i]` online bidders, and `declineAt[i]` or
 * fewer counts as a decline. null: not known then (warming up, too few bidders to judge, or the
 * server was not running).
 */
export interface BaselineBand {
  ts: number[];
  expected: (number | null)[];
  declineAt: (number | null)[];
}

/** What changed on one chart. A screen applies it as it comes; nothing in it needs computing. */
export interface ChartDelta {
  /** The span the chart shows now (event time, ms): points before `from` are dropped. */
  window: { from: number; to: number };
  /** Points replacing every point at or after `from` (a full chart has `from` = `window.from`). */
  points?: AttendanceSeries & { from: number };
  /** The whole band, when it changed. */
  band?: BaselineBand;
  /** Every marker of the window, when they changed. */
  markers?: AlertMarker[];
}

/** An alert on a lane tile. */
export interface TileAlert {
  rule: AlertRule;
  severity: Severity;
  state: AlertState;
  message: string;
  acknowledgedBy: string | null;
}

/**
 * Everything one lane tile shows, computed by the server (figures: METRICS.md). A lane's feed
 * connection's own `feed.stale` counts as the lane's.
 */
export interface LaneTile {
  lane: string;
  state: 'open' | 'closed';
  auctioneer: string | null;
  clerk: string | null;
  run: CurrentRun | null;
  /** While the block is empty: since when (event time). */
  idleSince: number | null;
  recentBids: RecentBid[];
  onlineBidders: number | null;
  onlineBiddersPeak: number | null;
  attendanceChangePct: number | null;
  bidsPerMin: ChannelRates;
  secondsPerVehicle: number | null;
  carsPerHour: number | null;
  hammerLeadSec: number | null;
  offered: number;
  sold: number;
  saleThroughPct: number | null;
  onlineBuyerPct: number | null;
  /** `clerkLatencyMs` in seconds. */
  clerkLatencySec: { p50: number | null; p95: number | null };
  missedOnlineBids: { sale: number; last10Min: number };
  /** Event time of the lane's newest event: the screen ages it against the heartbeat's `now`. */
  dataAt: number | null;
  /**
   * Data older than this is late (the tile's badge): three times the lane's usual gap between
   * events (p95), at least STALE_AFTER_SEC — the same limit as its `feed.stale` alert.
   */
  lateAfterSec: number;
  /** The worst firing alert's severity: the tile's border. null: none firing. */
  worst: Severity | null;
  /** Firing alerts, worst first. */
  firing: TileAlert[];
  /** Pending, recovering or flapping: shown quietly, not as alarms. */
  quiet: TileAlert[];
}

export interface LaneDelta {
  lane: string;
  /** The whole tile, when anything on it changed. */
  tile?: LaneTile;
  chart: ChartDelta;
}

/** One line of the alert ticker. */
export interface TickerEntry {
  key: string;
  rule: AlertRule;
  severity: Severity;
  state: AlertState;
  /** null: about the whole sale or a feed connection. */
  lane: string | null;
  message: string;
  /** Event time the state began. */
  since: number;
  acknowledgedBy: string | null;
}

/** An auctioneer's line on the sales board (figures: StaffFigures). */
export interface AuctioneerRow {
  name: string;
  lanes: string[];
  sold: number;
  offered: number;
  saleThroughPct: number | null;
  carsPerHour: number | null;
  onlineBuyerPct: number | null;
  meanHammerLeadSec: number | null;
}

/** A clerk's line on the sales board (figures: ClerkFigures). */
export interface ClerkRow {
  name: string;
  lanes: string[];
  offered: number;
  meanClerkLatencySec: number | null;
  missedOnlineBids: number;
  blockErrorsPer100: number | null;
}

/** The day's sales board, live: the leaders of each role, in the order shown. */
export interface SalesBoard {
  /** Most cars sold first. */
  auctioneers: AuctioneerRow[];
  /** Quickest to take online bids first; those with none taken yet last. */
  clerks: ClerkRow[];
  /** How many of each there are in all (the board shows the leaders). */
  auctioneerCount: number;
  clerkCount: number;
}

/** The sale header's parts, each when it changed. */
export interface SaleHeaderDelta {
  /** Online bidders summed over the open lanes, over the whole sale. */
  chart?: ChartDelta;
  ticker?: TickerEntry[];
  board?: SalesBoard;
}

/** What changed on a sale's wall: each lane at most once a second, the header likewise. */
export interface WallDelta {
  sale: string;
  lanes: LaneDelta[];
  header?: SaleHeaderDelta;
}

export interface ServerToClientEvents {
  /** Lane snapshots of the watched sale: all lanes on `watch`, then only changed lanes, ≤ 1/s. */
  lanes: (lanes: LaneSnapshot[]) => void;
  /** Sale totals of the watched sale, ≤ 1/s. */
  sale: (totals: SaleTotals) => void;
  /** Every alert transition of every sale, to every screen, as it happens. */
  alert: (transition: AlertTransition) => void;
  /** Each second, to every screen watching a sale. */
  heartbeat: (beat: Heartbeat) => void;
  /** Wall view: the changed lanes and header parts; everything on `watch`. */
  wall: (delta: WallDelta) => void;
}

export interface ClientToServerEvents {
  /** Alert actions need the manager role; they are recorded under the connection's user or token. */
  ackAlert: (request: { key: string }, ack: (reply: Ack<unknown>) => void) => void;
  snoozeAlert: (request: { key: string; minutes: number }, ack: (reply: Ack<unknown>) => void) => void;
  /** Silences a sale's lane and/or rule (all of the sale when neither is given) for `minutes`. */
  silenceAlerts: (
    request: { sale: string; lane?: string; rule?: string; minutes: number },
    ack: (reply: Ack<unknown>) => void,
  ) => void;
  /** Safe to repeat (clients re-send it on every reconnect); each call answers with the full picture. */
  watch: (request: WatchRequest, ack: (reply: Ack<WatchReply>) => void) => void;
}

/**
 * Which lane figures are kept as history, and how each is read from a live LaneSnapshot: one line
 * per stored metric. Nested figures are flattened (`bidsPerMin.online` → `bidsPerMinOnline`) so
 * every metric is one InfluxDB field and one `metric=` value of the history route.
 */
import type { LaneSnapshot } from '../wire';

/** A snapshot without its attendance chart is enough: that is what the engine computes each second. */
type LaneFigures = Omit<LaneSnapshot, 'attendance'>;
type ReadFigure = (figures: LaneFigures) => number | null;

const HISTORY_FIGURES = {
  onlineBidders: (s) => s.onlineBidders,
  onlineBiddersPeak: (s) => s.onlineBiddersPeak,
  attendanceBaseline: (s) => s.attendanceBaseline,
  attendanceChangePct: (s) => s.attendanceChangePct,
  distinctOnlineBidders: (s) => s.distinctOnlineBidders,
  bidsPerMinOnline: (s) => s.bidsPerMin.online,
  bidsPerMinFloor: (s) => s.bidsPerMin.floor,
  bidsPerMinProxy: (s) => s.bidsPerMin.proxy,
  onlineBidShareSaleToDate: (s) => s.onlineBidShare.saleToDate,
  onlineBidShareLast15Min: (s) => s.onlineBidShare.last15Min,
  secondsPerVehicle: (s) => s.secondsPerVehicle,
  carsPerHour: (s) => s.carsPerHour,
  idleSeconds: (s) => s.idleSeconds,
  timeToFirstBidSec: (s) => s.timeToFirstBidSec,
  bidsPerVehicle: (s) => s.bidsPerVehicle,
  offered: (s) => s.offered,
  sold: (s) => s.sold,
  ifSale: (s) => s.ifSale,
  noSale: (s) => s.noSale,
  saleThroughPct: (s) => s.saleThroughPct,
  conversionPct: (s) => s.conversionPct,
  onlineBuyerPct: (s) => s.onlineBuyerPct,
  grossSales: (s) => s.grossSales,
  priceToMmrPct: (s) => s.priceToMmrPct,
  clerkLatencyMsP50: (s) => s.clerkLatencyMs.p50,
  clerkLatencyMsP95: (s) => s.clerkLatencyMs.p95,
  missedOnlineBidsSale: (s) => s.missedOnlineBids.sale,
  missedOnlineBidsLast10Min: (s) => s.missedOnlineBids.last10Min,
  hammerLeadSec: (s) => s.hammerLeadSec,
  onlineParticipationPct: (s) => s.onlineParticipationPct,
  blockErrorsPer100: (s) => s.blockErrorsPer100,
  feedGaps: (s) => s.feedGaps,
  lateEvents: (s) => s.lateEvents,
  streamLatencyMs: (s) => s.streamLatencyMs,
  feedAgeSec: (s) => s.feedAgeSec,
} satisfies Record<string, ReadFigure>;

export type HistoryMetric = keyof typeof HISTORY_FIGURES;

/** Every stored metric name, in table order: what `metric=` of the history route accepts. */
export const HISTORY_METRICS = Object.keys(HISTORY_FIGURES) as [HistoryMetric, ...HistoryMetric[]];

export type HistoryFigures = Record<HistoryMetric, number | null>;

/** One lane's stored figures at one moment; `null` = not enough data yet (nothing is written). */
export function historyFigures(lane: LaneFigures): HistoryFigures {
  const figures = {} as HistoryFigures;
  for (const metric of HISTORY_METRICS) figures[metric] = HISTORY_FIGURES[metric](lane);
  return figures;
}

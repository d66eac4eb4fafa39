/**
 * The seasonal prior of the decline alert, from history: how each lane's online crowd moved,
 * minute by minute after the lane opened, in the site's previous sales (`lane_metrics`, which the
 * server writes every second). See alerts/seasonal.ts for how the curves become a prior.
 */
import { seasonalPriorFrom, type PastLaneAttendance, type SeasonalPrior } from '../../alerts/seasonal';
import { quoteLiteral, type InfluxStore } from '../../storage/influxdb';
import { HISTORY_MEASUREMENT } from './recorder';

/** How far back previous sales count: a season's shape, not last year's. */
const LOOKBACK_DAYS = 90;
/** The longest lane day a curve covers. */
const MAX_MINUTES = 14 * 60;

/**
 * The prior from every stored sale but `exclude` (the ones still running: a sale is not its own
 * history). Each (sale, lane) curve starts at the lane's first stored minute.
 */
export async function loadSeasonalPrior(store: InfluxStore, exclude: readonly string[] = []): Promise<SeasonalPrior> {
  const notRunning = exclude.map((sale) => ` AND "sale" != ${quoteLiteral(sale)}`).join('');
  const series = await store.query(
    `SELECT mean("onlineBidders") FROM "${HISTORY_MEASUREMENT}" WHERE time > now() - ${LOOKBACK_DAYS}d${notRunning} ` +
      'GROUP BY time(1m), "auction", "sale", "lane" fill(none)',
  );
  const curves: PastLaneAttendance[] = [];
  for (const { tags, values } of series) {
    if (!tags?.auction || !tags.lane || values.length === 0) continue;
    const opened = Number(values[0]?.[0]);
    const perMinute: (number | null)[] = [];
    for (const [ts, mean] of values) {
      const minute = Math.round((Number(ts) - opened) / 60_000);
      if (minute >= MAX_MINUTES) break;
      while (perMinute.length < minute) perMinute.push(null);
      perMinute[minute] = typeof mean === 'number' ? mean : null;
    }
    curves.push({ auction: tags.auction, lane: tags.lane, perMinute });
  }
  return seasonalPriorFrom(curves);
}

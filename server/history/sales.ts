/**
 * The sales InfluxDB remembers, read from their raw `sale.opened` / `sale.closed` / `lane.opened`
 * events, so `GET /api/sales` can list sales from before the live bus's memory.
 */
import type { InfluxSeries, InfluxStore } from '../../storage/influxdb';
import type { SaleInfo } from '../wire';

interface Mark {
  at: number;
  name: string;
}

/** Every sale with a stored `sale.opened`, newest first. */
export async function storedSales(store: InfluxStore): Promise<SaleInfo[]> {
  const [firstOpened, lastOpened, lastClosed, openedLanes] = await Promise.all([
    store.query('SELECT first("name") FROM "sale_opened" GROUP BY "auction", "sale"'),
    store.query('SELECT last("name") FROM "sale_opened" GROUP BY "sale"'),
    store.query('SELECT last("name") FROM "sale_closed" GROUP BY "sale"'),
    store.query('SELECT count("id") FROM "lane_opened" GROUP BY "sale", "lane"'),
  ]);
  const reopened = marksBySale(lastOpened);
  const closed = marksBySale(lastClosed);
  const lanes = new Map<string, number>();
  for (const series of openedLanes) {
    const sale = series.tags?.sale ?? '';
    lanes.set(sale, (lanes.get(sale) ?? 0) + 1);
  }

  const sales: SaleInfo[] = [];
  for (const series of firstOpened) {
    const sale = series.tags?.sale ?? '';
    const opened = markOf(series);
    if (!opened) continue;
    const latestOpen = reopened.get(sale) ?? opened;
    const close = closed.get(sale);
    // A sale opened again after it closed is open, as the live engine has it.
    const isClosed = close !== undefined && close.at >= latestOpen.at;
    sales.push({
      auction: series.tags?.auction ?? '',
      sale,
      name: isClosed ? close.name : latestOpen.name,
      state: isClosed ? 'closed' : 'open',
      openedAt: opened.at,
      ...(isClosed ? { closedAt: close.at } : {}),
      lanes: lanes.get(sale) ?? 0,
    });
  }
  return sales.sort(newestFirst);
}

/** The live board's sales plus the stored ones it no longer (or not yet) holds; a live entry wins. */
export function mergeSales(live: readonly SaleInfo[], stored: readonly SaleInfo[]): SaleInfo[] {
  const known = new Set(live.map((entry) => entry.sale));
  return [...live, ...stored.filter((entry) => !known.has(entry.sale))].sort(newestFirst);
}

function newestFirst(a: SaleInfo, b: SaleInfo): number {
  return b.openedAt - a.openedAt || a.sale.localeCompare(b.sale);
}

function marksBySale(series: readonly InfluxSeries[]): Map<string, Mark> {
  const marks = new Map<string, Mark>();
  for (const one of series) {
    const mark = markOf(one);
    if (mark) marks.set(one.tags?.sale ?? '', mark);
  }
  return marks;
}

/** The time and name of a `first("name")` / `last("name")` selector's one row. */
function markOf(series: InfluxSeries): Mark | undefined {
  const [at, name] = series.values[0] ?? [];
  return typeof at === 'number' ? { at, name: typeof name === 'string' ? name : '' } : undefined;
}

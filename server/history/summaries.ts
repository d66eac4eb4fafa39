/**
 * Final sale summaries in InfluxDB (`sale_summaries`): when the board retires a sale from memory,
 * its summary as it stood is kept here, so `GET /api/sales/:sale/summary` still answers for it.
 * One point per sale, stamped with the sale's opening time: every node writes the same point,
 * and a re-write replaces it.
 */
import { escape } from '@influxdata/influxdb-client';
import { quoteLiteral, type InfluxStore } from '../../storage/influxdb';
import type { SaleSummary } from '../wire';

const MEASUREMENT = 'sale_summaries';

export async function archiveSummaries(store: InfluxStore, summaries: readonly SaleSummary[]): Promise<void> {
  await store.writeLines(
    summaries.map(
      (summary) =>
        `${MEASUREMENT},auction=${escape.tag(summary.auction)},sale=${escape.tag(summary.sale)} ` +
        `json=${escape.quoted(JSON.stringify(summary))} ${summary.openedAt}000000`,
    ),
  );
}

/** The archived summary of a retired sale; undefined when none was kept. */
export async function archivedSummary(store: InfluxStore, sale: string): Promise<SaleSummary | undefined> {
  const [series] = await store.query(`SELECT last("json") FROM "${MEASUREMENT}" WHERE "sale" = ${quoteLiteral(sale)}`);
  const json = series?.values[0]?.[1];
  return typeof json === 'string' ? (JSON.parse(json) as SaleSummary) : undefined;
}

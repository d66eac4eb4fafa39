/**
 * The wall charts' history in the restart checkpoint: every kept sale's bands and markers
 * (./chart-feed, `SaleChartHistory`) as JSON text, and back. The text is checked in full before
 * any of it is used, so an older or damaged one is refused whole, with the reason, rather than
 * drawn half right.
 */
import { z } from 'zod';
import { ALERT_RULES } from '../alerts/types';
import type { SaleChartHistory } from './chart-feed';

/** Bump when the shape below changes: a checkpoint of another version is then refused. */
export const CHART_HISTORY_VERSION = 1;

const band = z
  .object({
    ts: z.array(z.number()),
    expected: z.array(z.number().nullable()),
    declineAt: z.array(z.number().nullable()),
  })
  .refine(
    (b) => b.expected.length === b.ts.length && b.declineAt.length === b.ts.length,
    'band columns differ in length',
  )
  .refine((b) => b.ts.every((ts, i) => i === 0 || ts > (b.ts[i - 1] as number)), 'band steps out of order');

const marker = z.object({
  key: z.string(),
  rule: z.enum(ALERT_RULES),
  severity: z.enum(['critical', 'warning']),
  from: z.number(),
  to: z.number().nullable(),
});

const chart = z.object({ band, markers: z.array(marker) });

const chartHistory = z.object({
  version: z.literal(CHART_HISTORY_VERSION),
  sales: z.record(z.string(), z.object({ sale: chart, lanes: z.record(z.string(), chart) })),
});

export function serializeChartHistory(sales: ReadonlyMap<string, SaleChartHistory>): string {
  const text: z.input<typeof chartHistory> = { version: CHART_HISTORY_VERSION, sales: Object.fromEntries(sales) };
  return JSON.stringify(text);
}

/** Reads `serializeChartHistory`'s text back, by sale; throws, saying why, on any other text. */
export function parseChartHistory(text: string): Map<string, SaleChartHistory> {
  const parsed = chartHistory.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`wall chart history cannot be restored:\n${z.prettifyError(parsed.error)}`);
  return new Map(Object.entries(parsed.data.sales));
}

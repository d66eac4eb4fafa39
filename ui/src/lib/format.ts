/**
 * Display formatting for the wall display. Figures arrive computed by the server (METRICS.md); these
 * helpers only turn them into text. `null` means "not enough data yet" and always shows as a dash.
 */

/** Prices are dollars and the wire carries no locale, so the board formats as a US site. */
const LOCALE = 'en-US';

const NO_VALUE = '—';

type Figure = number | null | undefined;

function numberFormat(options: Intl.NumberFormatOptions): (value: Figure) => string {
  const format = new Intl.NumberFormat(LOCALE, options);
  return (value) => (value === null || value === undefined ? NO_VALUE : format.format(value));
}

export const count = numberFormat({ maximumFractionDigits: 0 });

/** Two counts read together, e.g. clerk latency p50 / p95: "404 / 2,665", "404 / —", or "—". */
export function countPair(first: Figure, second: Figure): string {
  return first === null && second === null ? NO_VALUE : `${count(first)} / ${count(second)}`;
}

/** Durations the server sends in seconds: "58 s", "4.2 s". */
export const seconds = numberFormat({ style: 'unit', unit: 'second', unitDisplay: 'narrow', maximumFractionDigits: 1 });

const decimal = numberFormat({ maximumFractionDigits: 1 });

/** Two durations read together, e.g. clerk latency p50 / p95: "0.4 / 2.7s", or "—". */
export function secondsPair(first: Figure, second: Figure): string {
  return first === null && second === null ? NO_VALUE : `${decimal(first)} / ${seconds(second)}`;
}

/** Bids per minute: one decimal so 0.4 and 0 stay apart. */
export const perMinute = numberFormat({ minimumFractionDigits: 1, maximumFractionDigits: 1 });

/** For figures already in percent (`saleThroughPct`: 62 → "62%"). */
export const percent = numberFormat({ style: 'unit', unit: 'percent', maximumFractionDigits: 0 });

/** For changes already in percent (`attendanceChangePct`: −12 → "-12%"). */
export const percentChange = numberFormat({
  style: 'unit',
  unit: 'percent',
  maximumFractionDigits: 0,
  signDisplay: 'exceptZero',
});

/** For 0–1 fractions (`onlineBidShare`: 0.46 → "46%"). */
export const share = numberFormat({ style: 'percent', maximumFractionDigits: 0 });

export const dollars = numberFormat({ style: 'currency', currency: 'USD', maximumFractionDigits: 0 });

/** Where space is short (bid chips, sale gross): "$18.4K", "$10.3M". */
export const dollarsShort = numberFormat({
  style: 'currency',
  currency: 'USD',
  notation: 'compact',
  maximumFractionDigits: 1,
});

const clock = new Intl.DateTimeFormat(LOCALE, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** Wall-clock time of an epoch-ms timestamp, e.g. "14:32:05". */
export function clockTime(ms: Figure): string {
  return ms === null || ms === undefined ? NO_VALUE : clock.format(ms);
}

/** Names of staff and vehicles: missing ones show as a dash, like missing figures. */
export function text(value: string | null | undefined): string {
  return value ? value : NO_VALUE;
}

const plurals = new Intl.PluralRules(LOCALE);

/** A count with its noun, e.g. "1 bid", "12 bids". */
export function countOf(value: number, one: string, other: string): string {
  return `${count(value)} ${plurals.select(value) === 'one' ? one : other}`;
}

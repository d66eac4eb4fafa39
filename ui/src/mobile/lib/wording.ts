/**
 * How an alert reads on a phone, the same on the page and in a notification (the service worker
 * imports this too, so it must stay free of DOM and Svelte). Figures arrive computed by the rule
 * that fired (alerts/types.ts `Alert.figures`); these helpers only name and format them.
 */
import type { Alert } from '../../../../alerts/types';

export interface Figure {
  label: string;
  value: string;
}

const number = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

/** A unit read off the figure's name, as the rules name them (`dropPct`, `streamLatencyMs`). */
const UNITS: [suffix: string, unit: string][] = [
  ['Pct', ' %'],
  ['Ms', ' ms'],
  ['Sec', ' s'],
];

/** `{ onlineBidders: 16, dropPct: 48, baseline: null }` → online bidders 16, drop 48 %, baseline —. */
export function figuresOf(figures: Alert['figures']): Figure[] {
  return Object.entries(figures).map(([name, value]) => {
    const [suffix, unit] = UNITS.find(([suffix]) => name.endsWith(suffix) && name !== suffix) ?? ['', ''];
    const words = name.slice(0, name.length - suffix.length).replace(/([a-z0-9])([A-Z])/g, '$1 $2');
    return { label: words.toLowerCase(), value: value === null ? '—' : `${number.format(value)}${unit}` };
  });
}

/** One line for a notification: "online bidders 16 · drop 48 %". */
export function figuresLine(figures: Alert['figures']): string {
  return figuresOf(figures)
    .map(({ label, value }) => `${label} ${value}`)
    .join(' · ');
}

/** What the alert is about, as the manager says it: "Lane 4", "Feed dallas-east", "Sale 42". */
export function placeOf(alert: Pick<Alert, 'lane' | 'source' | 'sale'>): string {
  if (alert.lane !== undefined) return `Lane ${alert.lane}`;
  if (alert.source !== undefined) return `Feed ${alert.source}`;
  return `Sale ${alert.sale}`;
}

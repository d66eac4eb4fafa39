/**
 * The alert vocabulary shared by the rule engine, its state store, the notifiers and the screens
 * (../shared/METRICS.md §Alerts). Types, and the two lists the API validates against.
 */

export const ALERT_RULES = [
  'attendance.decline',
  'feed.stale',
  'lane.stalled',
  'clerk.slow',
  'bids.missed',
  'pace.fast',
  'stream.lagging',
  'online.silent',
] as const;

export type AlertRule = (typeof ALERT_RULES)[number];

/** What the alert is about: one lane, a whole sale, or one feed connection. */
export type AlertScope = 'lane' | 'sale' | 'source';

export const ALERT_STATES = [
  'warmup',
  'ok',
  'pending',
  'firing',
  'recovering',
  'resolved',
  'suppressed',
  'flapping',
] as const;

export type AlertState = (typeof ALERT_STATES)[number];

export type Severity = 'critical' | 'warning';

export interface Alert {
  /** `rule + auction + sale + (lane | source)`: one alert per key at a time, across restarts and nodes. */
  key: string;
  rule: AlertRule;
  scope: AlertScope;
  auction: string;
  sale: string;
  lane?: string;
  source?: string;
  severity: Severity;
  state: AlertState;
  /** Event time the current state began. */
  since: number;
  firedAt?: number;
  resolvedAt?: number;
  acknowledgedBy?: string;
  acknowledgedAt?: number;
  snoozedUntil?: number;
  /** The figures that made the rule fire, e.g. `{ onlineBidders: 12, baseline: 31 }`. */
  figures: Record<string, number | null>;
  /** Likely causes found in the same window (attendance.decline), most likely first. */
  causes: string[];
  /** Counts this key's transitions: with `key`, the idempotency key of a notification. */
  transition: number;
  /** One line a person reads on a phone, e.g. "Lane 4: online bidders down 48 % (31 → 16)". */
  message: string;
}

export interface AlertTransition {
  alert: Alert;
  from: AlertState;
  to: AlertState;
  /** Event time of the transition. */
  at: number;
}

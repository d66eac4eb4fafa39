/**
 * Why an alert key is `suppressed` right now: its lane (feed, sale) is closed, a manager silenced
 * or snoozed it, or a firing alert higher in the precedence order explains it. Silences and snoozes
 * are inputs to each evaluation — the REST/socket actions that create them store them elsewhere.
 */
import type { AlertRule } from './types';

export interface AlertMute {
  /** Which alerts: each field given must match, so `{ sale, lane }` covers every rule of a lane. */
  key?: string;
  rule?: AlertRule;
  auction?: string;
  sale?: string;
  lane?: string;
  source?: string;
  /** Planned quiet (e.g. a lane under maintenance), until this event time. */
  silencedUntil?: number;
  /** A manager's "not now" on a firing alert, until this event time. */
  snoozedUntil?: number;
}

export type Suppression =
  | { kind: 'closed' }
  | { kind: 'silenced'; until: number }
  | { kind: 'snoozed'; until: number }
  | { kind: 'inhibited'; by: AlertRule };

export interface MuteTarget {
  key: string;
  rule: AlertRule;
  auction: string;
  sale: string;
  lane: string | null;
  source: string | null;
}

/** The silence or snooze covering `target` at `now` that lasts longest, if any; silences first. */
export function muteOf(mutes: readonly AlertMute[], target: MuteTarget, now: number): Suppression | null {
  let silenced = -Infinity;
  let snoozed = -Infinity;
  for (const mute of mutes) {
    if (!matches(mute, target)) continue;
    if (mute.silencedUntil !== undefined && mute.silencedUntil > now) silenced = Math.max(silenced, mute.silencedUntil);
    if (mute.snoozedUntil !== undefined && mute.snoozedUntil > now) snoozed = Math.max(snoozed, mute.snoozedUntil);
  }
  if (silenced > now) return { kind: 'silenced', until: silenced };
  if (snoozed > now) return { kind: 'snoozed', until: snoozed };
  return null;
}

export function describeSuppression(suppression: Suppression, scopeNoun: string): string {
  switch (suppression.kind) {
    case 'closed':
      return `${scopeNoun} closed`;
    case 'silenced':
      return 'silenced';
    case 'snoozed':
      return 'snoozed';
    case 'inhibited':
      return `explained by ${suppression.by}`;
  }
}

function matches(mute: AlertMute, target: MuteTarget): boolean {
  return (
    (mute.key === undefined || mute.key === target.key) &&
    (mute.rule === undefined || mute.rule === target.rule) &&
    (mute.auction === undefined || mute.auction === target.auction) &&
    (mute.sale === undefined || mute.sale === target.sale) &&
    (mute.lane === undefined || mute.lane === target.lane) &&
    (mute.source === undefined || mute.source === target.source)
  );
}

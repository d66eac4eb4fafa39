/**
 * One alert key (`rule + auction + sale + lane | source`) and the state it shows. Three layers
 * decide that state (../shared/METRICS.md §Alerts):
 * 1. the rule's lifecycle (./lifecycle), which always runs — suppressed or not;
 * 2. flapping (./flapping): a key flipping too often shows `flapping` instead;
 * 3. suppression (./suppression): closed, silenced, snoozed, or inhibited.
 * An announced firing stays an open episode until a `resolved` transition closes it, whatever the
 * layers did in between: a phone that got "firing" always gets its "resolved". Each change of the
 * shown state is one transition, numbered per key.
 */
import type { AlertConfig } from './config';
import { calmHistory, flipsIn, recordEvaluation, type FlapHistory } from './flapping';
import { stepLifecycle, warmingUp, type Lifecycle, type Timing } from './lifecycle';
import type { Figures, RuleResult, RuleWording } from './rules/rule';
import { describeSuppression, type Suppression } from './suppression';
import type { Alert, AlertRule, AlertScope, AlertState, AlertTransition, Severity } from './types';

/** A key's whole state: plain JSON-safe data, persisted with the evaluator's. */
export interface AlertKeyState {
  key: string;
  rule: AlertRule;
  scope: AlertScope;
  auction: string;
  sale: string;
  lane: string | null;
  source: string | null;
  lifecycle: Lifecycle;
  /** The rule's own memory (see each rule). */
  memory: unknown;
  flaps: FlapHistory;
  /** The state shown, and since when. */
  state: AlertState;
  since: number;
  transition: number;
  /** Set from the announced firing until its resolve: the open episode. */
  firedAt: number | null;
  resolvedAt: number | null;
  acknowledgedBy: string | null;
  acknowledgedAt: number | null;
  suppression: Suppression | null;
  figures: Figures;
  causes: string[];
  message: string;
}

/** `rule + auction + sale + (lane | source)`: one alert per key at a time. */
export function alertKey(
  rule: AlertRule,
  auction: string,
  sale: string,
  target?: { lane?: string; source?: string },
): string {
  const base = `${rule}|${auction}|${sale}`;
  if (target?.lane !== undefined) return `${base}|lane:${target.lane}`;
  if (target?.source !== undefined) return `${base}|source:${target.source}`;
  return base;
}

export function newAlertKey(
  id: { rule: AlertRule; scope: AlertScope; auction: string; sale: string; lane?: string; source?: string },
  memory: unknown,
  now: number,
): AlertKeyState {
  return {
    key: alertKey(id.rule, id.auction, id.sale, id),
    rule: id.rule,
    scope: id.scope,
    auction: id.auction,
    sale: id.sale,
    lane: id.lane ?? null,
    source: id.source ?? null,
    lifecycle: warmingUp(now),
    memory,
    flaps: calmHistory(),
    state: 'warmup',
    since: now,
    transition: 0,
    firedAt: null,
    resolvedAt: null,
    acknowledgedBy: null,
    acknowledgedAt: null,
    suppression: null,
    figures: {},
    causes: [],
    message: '',
  };
}

/** One evaluation of a key: its rule's result and what lies over it. */
export interface KeyUpdate {
  result: RuleResult<unknown>;
  wording: RuleWording;
  timing: Timing;
  warming: boolean;
  suppression: Suppression | null;
  /** The likely causes of trouble that began at `since` (attendance.decline per lane). */
  explain?: (since: number) => string[];
}

/** Firing (or recovering) underneath whatever it shows: what inhibits the rules below it. */
export function isActive(key: AlertKeyState): boolean {
  return key.lifecycle.state === 'firing' || key.lifecycle.state === 'recovering';
}

/** Applies one rule result to its key and records the transitions it makes. */
export function settle(
  key: AlertKeyState,
  update: KeyUpdate,
  now: number,
  config: AlertConfig,
  transitions: AlertTransition[],
): void {
  const { result, warming, timing } = update;
  key.memory = result.memory;
  key.figures = result.figures;
  const before = key.lifecycle;
  if (warming) {
    if (before.state !== 'warmup') key.lifecycle = warmingUp(now);
  } else {
    key.lifecycle = stepLifecycle(before, result.verdict, now, timing, result.readyAt, result.breachAt);
    // Coming out of warmup is not a flip: the key has had no state to flip from.
    const flipped = key.lifecycle.state !== before.state && before.state !== 'warmup';
    key.flaps = recordEvaluation(key.flaps, flipped, result.evidence, config.flapping);
  }
  const { suppression } = update;
  const shown = suppression !== null ? 'suppressed' : key.flaps.flapping ? 'flapping' : key.lifecycle.state;
  show(key, shown, { ...update, now, config, transitions });
}

/** The lane, feed or sale closed: nothing to watch until it opens again (and warms up). */
export function closeKey(
  key: AlertKeyState,
  wording: RuleWording,
  now: number,
  config: AlertConfig,
  transitions: AlertTransition[],
): void {
  if (key.state === 'suppressed' && key.suppression?.kind === 'closed') return;
  key.lifecycle = warmingUp(now);
  key.flaps = calmHistory();
  show(key, 'suppressed', { wording, suppression: { kind: 'closed' }, now, config, transitions });
}

interface Showing {
  wording: RuleWording;
  suppression: Suppression | null;
  explain?: (since: number) => string[];
  now: number;
  config: AlertConfig;
  transitions: AlertTransition[];
}

function show(key: AlertKeyState, shown: AlertState, showing: Showing): void {
  const { wording, suppression, now, config } = showing;
  const previousSuppression = key.suppression;
  key.suppression = suppression;
  // An announced firing ends with a resolve, whatever ends it: recovery, a calm after flapping, closing.
  const endsEpisode =
    shown === 'ok' ||
    shown === 'resolved' ||
    shown === 'warmup' ||
    shown === 'pending' ||
    suppression?.kind === 'closed';
  if (key.firedAt !== null && endsEpisode) {
    key.firedAt = null;
    key.resolvedAt = now;
    key.acknowledgedBy = key.acknowledgedAt = null;
    const message =
      suppression?.kind === 'closed'
        ? `${subjectOf(key)}: ${wording.label} alert resolved (${scopeNoun(key)} closed)`
        : messageFor(key, wording, 'resolved', config);
    move(key, 'resolved', message, showing);
  }
  if (shown === 'firing' && key.firedAt === null) {
    key.firedAt = now;
    key.resolvedAt = null;
  }
  if ((shown === 'pending' || shown === 'firing') && showing.explain && shown !== key.state) {
    key.causes = showing.explain(key.lifecycle.breachedAt ?? now);
  }
  // `resolved` rests until the next trouble; a change of suppression reason is not a transition.
  if (shown === key.state || (shown === 'ok' && key.state === 'resolved')) {
    if (shown === 'suppressed' && previousSuppression?.kind !== suppression?.kind) {
      key.message = messageFor(key, wording, 'suppressed', config);
    }
    return;
  }
  move(key, shown, messageFor(key, wording, shown, config), showing);
}

function move(key: AlertKeyState, to: AlertState, message: string, showing: Showing): void {
  const from = key.state;
  key.state = to;
  key.since = showing.now;
  key.transition++;
  key.message = message;
  showing.transitions.push({ alert: snapshot(key), from, to, at: showing.now });
}

function messageFor(key: AlertKeyState, wording: RuleWording, state: AlertState, config: AlertConfig): string {
  const subject = subjectOf(key);
  switch (state) {
    case 'warmup':
      return `${subject}: ${wording.label} warming up`;
    case 'ok':
      return `${subject}: ${wording.label} normal`;
    case 'pending':
      return `${subject}: ${wording.problem(key.figures)} — watching`;
    case 'firing':
      return `${subject}: ${wording.problem(key.figures)}`;
    case 'recovering':
      return `${subject}: recovering, ${wording.recovered(key.figures)}`;
    case 'resolved':
      return `${subject}: ${wording.recovered(key.figures)}`;
    case 'flapping':
      return `${subject}: ${wording.label} unstable (state flipped in ${flipsIn(key.flaps)} of the last ${config.flapping.evaluations} checks)`;
    case 'suppressed':
      return `${subject}: ${wording.label} alert suppressed (${key.suppression ? describeSuppression(key.suppression, scopeNoun(key)) : 'muted'})`;
  }
}

function scopeNoun(key: AlertKeyState): string {
  return key.scope === 'source' ? 'feed' : key.scope;
}

function subjectOf(key: AlertKeyState): string {
  if (key.lane !== null) return `Lane ${key.lane}`;
  if (key.source !== null) return `Feed ${key.source}`;
  return 'Sale';
}

function severityOf(key: AlertKeyState): Severity {
  return key.rule === 'feed.stale' || (key.rule === 'attendance.decline' && key.scope === 'sale')
    ? 'critical'
    : 'warning';
}

/** The key as the wire and the notifiers see it. */
export function snapshot(key: AlertKeyState): Alert {
  return {
    key: key.key,
    rule: key.rule,
    scope: key.scope,
    auction: key.auction,
    sale: key.sale,
    ...(key.lane === null ? {} : { lane: key.lane }),
    ...(key.source === null ? {} : { source: key.source }),
    severity: severityOf(key),
    state: key.state,
    since: key.since,
    ...(key.firedAt === null ? {} : { firedAt: key.firedAt }),
    ...(key.resolvedAt === null ? {} : { resolvedAt: key.resolvedAt }),
    ...(key.acknowledgedBy === null ? {} : { acknowledgedBy: key.acknowledgedBy }),
    ...(key.acknowledgedAt === null ? {} : { acknowledgedAt: key.acknowledgedAt }),
    ...(key.suppression?.kind === 'snoozed' ? { snoozedUntil: key.suppression.until } : {}),
    figures: { ...key.figures },
    causes: [...key.causes],
    transition: key.transition,
    message: key.message,
  };
}

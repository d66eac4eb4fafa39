/**
 * The alert evaluator: runs every rule of a sale — per feed connection, per lane, for the sale —
 * over one sample at one event time and returns the transitions. The server calls `evaluateSale`
 * after each metric update and on its 1 s tick; the state it keeps is plain JSON-safe data, stored
 * in Redis so a restart neither re-fires nor forgets (`serializeAlerts` / `restoreAlerts`).
 *
 * It orders the rules by precedence (../shared/METRICS.md §Alerts): feed.stale (source) ›
 * feed.stale (lane) › lane.stalled › attendance.decline. A rule lower down holds still while its
 * lane's data is stale, and is shown suppressed ("inhibited") while one above it fires for the
 * same lane. What each key shows, and when that is a transition, is ./alert-key's.
 */
import { closeKey, isActive, newAlertKey, settle, snapshot, type AlertKeyState } from './alert-key';
import { likelyCauses, newHistory, recordHistory, type LaneHistory, type LaneLevel } from './causes';
import type { AlertConfig } from './config';
import { laneAttendance, type LaneAttendance, type SaleDeclineMemory } from './rules/decline';
import { INHIBITS, LANE_RULES, saleDecline, sourceStale } from './rules/index';
import type { RuleWording } from './rules/rule';
import { isStale, type FeedMemory } from './rules/stale';
import type { LaneSample, Reading, SaleSample, SourceSample } from './samples';
import type { SeasonalPrior } from './seasonal';
import { muteOf, type AlertMute, type Suppression } from './suppression';
import type { Alert, AlertRule, AlertTransition } from './types';

/** Bump when the shape of the state changes: an older one is then refused, not misread. */
export const ALERT_STATE_VERSION = 1;

export interface AlertsState {
  version: typeof ALERT_STATE_VERSION;
  sales: Record<string, SaleWatch>;
}

export interface EvaluationContext {
  config: AlertConfig;
  /** The site's usual attendance shape; without it the baseline is the lane's recent level alone. */
  prior?: SeasonalPrior;
  /** Silences and snoozes in force (./suppression). */
  mutes?: readonly AlertMute[];
}

interface LaneWatch {
  /** When the lane last opened; null while it is closed. */
  openSince: number | null;
  /** Attendance samples since it opened (warmup), and the newest one seen. */
  samples: number;
  lastSampleAt: number | null;
  history: LaneHistory;
  keys: Record<string, AlertKeyState>;
}

interface SourceWatch {
  openSince: number | null;
  key: AlertKeyState | null;
}

interface SaleWatch {
  auction: string;
  sale: string;
  decline: AlertKeyState | null;
  sources: Record<string, SourceWatch>;
  lanes: Record<string, LaneWatch>;
}

export function createAlertsState(): AlertsState {
  return { version: ALERT_STATE_VERSION, sales: {} };
}

/** Runs every rule of the sale at `now` (event time) and returns the transitions, in order. */
export function evaluateSale(
  state: AlertsState,
  sample: SaleSample,
  now: number,
  context: EvaluationContext,
): AlertTransition[] {
  const run: Evaluation = { now, context, mutes: context.mutes ?? [], transitions: [] };
  const watch = (state.sales[sample.sale] ??= {
    auction: sample.auction,
    sale: sample.sale,
    decline: null,
    sources: {},
    lanes: {},
  });
  for (const source of sample.sources) evaluateSource(run, watch, source);
  const openLanes = new Set(sample.lanes.filter((lane) => lane.open).map((lane) => lane.lane));
  const summed: LaneAttendance[] = [];
  let latestSampleAt: number | null = null;
  for (const lane of sample.lanes) {
    const attendance = evaluateLane(run, watch, lane, openLanes);
    if (attendance === null) continue;
    summed.push(attendance);
    latestSampleAt = Math.max(latestSampleAt ?? -Infinity, watch.lanes[lane.lane]?.lastSampleAt ?? -Infinity);
  }
  evaluateSaleDecline(run, watch, sample, summed, latestSampleAt);
  return run.transitions;
}

/**
 * A manager acknowledges a firing alert: it stays firing but is no longer re-notified. Returns
 * the alert, or undefined when the key has no open episode (nothing to acknowledge).
 */
export function acknowledgeAlert(state: AlertsState, key: string, by: string, at: number): Alert | undefined {
  const record = findKey(state, key);
  if (!record || record.firedAt === null) return undefined;
  record.acknowledgedBy = by;
  record.acknowledgedAt = at;
  return snapshot(record);
}

/** Every key of a sale (or of all sales) as it stands: what a screen that joins late starts from. */
export function currentAlerts(state: AlertsState, sale?: string): Alert[] {
  const watches = sale === undefined ? Object.values(state.sales) : [state.sales[sale]].filter((w) => w !== undefined);
  return watches.flatMap((watch) => allKeys(watch).map(snapshot));
}

/**
 * True while some key's condition holds and its hold is not over yet: it fires at the end of the
 * hold, so an evaluation then finds it on time (the server evaluates more often meanwhile).
 */
export function anyPending(state: AlertsState): boolean {
  return Object.values(state.sales).some((watch) => allKeys(watch).some((key) => key.lifecycle.state === 'pending'));
}

/**
 * Drops the keys of every sale that is no longer evaluated (`evaluated` lacks it: the server
 * retired it) and whose keys have not changed since `before` (event time); returns the sales
 * dropped. The second condition keeps a sale a node has not yet read back after a restart.
 */
export function forgetRetiredSales(state: AlertsState, evaluated: ReadonlySet<string>, before: number): string[] {
  const forgotten: string[] = [];
  for (const [sale, watch] of Object.entries(state.sales)) {
    if (evaluated.has(sale) || allKeys(watch).some((key) => key.since >= before)) continue;
    delete state.sales[sale];
    forgotten.push(sale);
  }
  return forgotten;
}

export function serializeAlerts(state: AlertsState): string {
  return JSON.stringify(state);
}

export function restoreAlerts(text: string): AlertsState {
  const state = JSON.parse(text) as Partial<AlertsState> | null;
  if (state?.version !== ALERT_STATE_VERSION || typeof state.sales !== 'object' || state.sales === null) {
    throw new Error(
      `alert state of version ${String(state?.version)} cannot be restored (expected ${ALERT_STATE_VERSION})`,
    );
  }
  return state as AlertsState;
}

interface Evaluation {
  now: number;
  context: EvaluationContext;
  mutes: readonly AlertMute[];
  transitions: AlertTransition[];
}

function evaluateSource(run: Evaluation, watch: SaleWatch, sample: SourceSample): void {
  const source = (watch.sources[sample.source] ??= { openSince: null, key: null });
  if (!sample.open) {
    source.openSince = null;
    if (source.key) closeKey(source.key, sourceStale, run.now, run.context.config, run.transitions);
    return;
  }
  source.openSince ??= run.now;
  const id = {
    rule: 'feed.stale',
    scope: 'source',
    auction: watch.auction,
    sale: watch.sale,
    source: sample.source,
  } as const;
  const key = (source.key ??= newAlertKey(id, sourceStale.initial(), run.now));
  const result = sourceStale.evaluate(key.memory as FeedMemory, sample, run.now, run.context.config);
  const warming = run.now - source.openSince < run.context.config.warmup.minutes * 60_000;
  const update = {
    result,
    wording: sourceStale,
    timing: sourceStale.timing(run.context.config),
    warming,
    suppression: muteOf(run.mutes, key, run.now),
  };
  settle(key, update, run.now, run.context.config, run.transitions);
}

/** Evaluates one lane; returns its attendance for the sale's sum when it may be summed. */
function evaluateLane(
  run: Evaluation,
  watch: SaleWatch,
  sample: LaneSample,
  openLanes: ReadonlySet<string>,
): LaneAttendance | null {
  const { now, context } = run;
  const { config } = context;
  const existing = watch.lanes[sample.lane];
  if (!sample.open) {
    if (existing) {
      existing.openSince = null;
      for (const key of Object.values(existing.keys)) {
        closeKey(key, WORDING[key.rule] as RuleWording, now, config, run.transitions);
      }
    }
    return null;
  }
  const lane =
    existing ??
    (watch.lanes[sample.lane] = { openSince: null, samples: 0, lastSampleAt: null, history: newHistory(), keys: {} });
  // First seen open: it opened when the engine says; seen opening again later: now.
  if (lane.openSince === null) {
    lane.openSince = existing ? now : sample.openedAt;
    lane.samples = 0;
  }
  const openSince = lane.openSince;
  const readings = sample.readings.filter((r) => lane.lastSampleAt === null || r.ts > lane.lastSampleAt);
  for (const reading of readings) if (reading.ts >= openSince) lane.samples++;
  if (readings.length > 0) lane.lastSampleAt = (readings.at(-1) as Reading).ts;
  const warming = now - openSince < config.warmup.minutes * 60_000 || lane.samples < config.warmup.samples;

  // Before the rules: a cause seen in this very sample counts for an alert it raises.
  recordHistory(lane.history, sample, now, config);
  const sourceKey = sample.source === null ? null : (watch.sources[sample.source]?.key ?? null);
  let stale = sourceKey !== null && isStale(sourceKey.memory as FeedMemory, now);
  let attendance: LaneAttendance | null = null;
  for (const rule of LANE_RULES) {
    const id = { rule: rule.rule, scope: 'lane', auction: watch.auction, sale: watch.sale, lane: sample.lane } as const;
    const key = (lane.keys[rule.rule] ??= newAlertKey(id, rule.initial(), now));
    const result = rule.evaluate(key.memory, {
      sample,
      now,
      config,
      readings,
      stale,
      openSince,
      warming,
      lifecycle: key.lifecycle,
      source: sourceKey === null ? null : (sourceKey.memory as FeedMemory),
      prior: context.prior,
    });
    if (rule.rule === 'feed.stale') stale ||= isStale(result.memory as FeedMemory, now);
    const suppression = muteOf(run.mutes, key, now) ?? inhibition(rule.rule, lane.keys, sourceKey);
    const update = { result, wording: rule, timing: rule.timing(config), warming, suppression };
    const explain =
      rule.rule === 'attendance.decline'
        ? (since: number) => causesOf(watch, sample.lane, openLanes, since, now, config)
        : undefined;
    settle(key, explain ? { ...update, explain } : update, now, config, run.transitions);
    if (rule.rule === 'attendance.decline' && !warming && !stale) attendance = laneAttendance(result.figures);
  }
  return attendance;
}

function evaluateSaleDecline(
  run: Evaluation,
  watch: SaleWatch,
  sample: SaleSample,
  lanes: readonly LaneAttendance[],
  latestSampleAt: number | null,
): void {
  if (!sample.open) {
    if (watch.decline) closeKey(watch.decline, saleDecline, run.now, run.context.config, run.transitions);
    return;
  }
  const id = { rule: 'attendance.decline', scope: 'sale', auction: watch.auction, sale: watch.sale } as const;
  const key = (watch.decline ??= newAlertKey(id, saleDecline.initial(), run.now));
  const { config } = run.context;
  const result = saleDecline.evaluate(key.memory as SaleDeclineMemory, lanes, latestSampleAt, run.now, config);
  const warming = run.now - sample.openedAt < config.warmup.minutes * 60_000;
  const update = {
    result,
    wording: saleDecline,
    timing: saleDecline.timing(config),
    warming,
    suppression: muteOf(run.mutes, key, run.now),
  };
  settle(key, update, run.now, config, run.transitions);
}

/** Every lane key was made by one of these; closing a lane words its keys' last messages. */
const WORDING: Partial<Record<AlertRule, RuleWording>> = Object.fromEntries(
  LANE_RULES.map((rule) => [rule.rule, rule]),
);
const INHIBITORS = Object.entries(INHIBITS) as [AlertRule, readonly AlertRule[]][];
/** A dead feed connection explains its lanes' own feed.stale as well as what a lane's feed.stale explains. */
const INHIBITED_BY_SOURCE: readonly AlertRule[] = ['feed.stale', ...(INHIBITS['feed.stale'] ?? [])];

/** The firing alert higher in the precedence order that explains this one, if any. */
function inhibition(
  rule: AlertRule,
  laneKeys: Record<string, AlertKeyState>,
  sourceKey: AlertKeyState | null,
): Suppression | null {
  if (sourceKey !== null && isActive(sourceKey) && INHIBITED_BY_SOURCE.includes(rule)) {
    return { kind: 'inhibited', by: 'feed.stale' };
  }
  for (const [by, silenced] of INHIBITORS) {
    const key = laneKeys[by];
    if (key !== undefined && silenced.includes(rule) && isActive(key)) return { kind: 'inhibited', by };
  }
  return null;
}

/** The likely causes of a lane's decline: its own history, and where the other open lanes stand. */
function causesOf(
  watch: SaleWatch,
  lane: string,
  openLanes: ReadonlySet<string>,
  since: number,
  now: number,
  config: AlertConfig,
): string[] {
  const others: LaneLevel[] = [];
  for (const [id, other] of Object.entries(watch.lanes)) {
    if (id === lane || !openLanes.has(id)) continue;
    const { baseline, recentLevel } = other.keys['attendance.decline']?.figures ?? {};
    if (baseline != null && recentLevel != null) others.push({ baseline, recent: recentLevel });
  }
  return likelyCauses(lane, watch.lanes[lane]?.history ?? newHistory(), others, since, now, config);
}

function allKeys(watch: SaleWatch): AlertKeyState[] {
  const keys: AlertKeyState[] = [];
  if (watch.decline) keys.push(watch.decline);
  for (const source of Object.values(watch.sources)) if (source.key) keys.push(source.key);
  for (const lane of Object.values(watch.lanes)) keys.push(...Object.values(lane.keys));
  return keys;
}

function findKey(state: AlertsState, key: string): AlertKeyState | undefined {
  for (const watch of Object.values(state.sales)) {
    const found = allKeys(watch).find((record) => record.key === key);
    if (found) return found;
  }
  return undefined;
}

/**
 * Hand-made lanes for the alert tests: each lane is a few functions of the second `t` (since T0),
 * sampled the way a feed does — attendance every 5 s, something from the lane every second unless
 * it is silent — and evaluated once a second, as the server's tick does.
 */
import { DEFAULT_ALERT_CONFIG, mergeAlertConfig, type AlertConfig } from '../../alerts/config';
import { createAlertsState, evaluateSale, type AlertsState, type EvaluationContext } from '../../alerts/evaluator';
import type { LaneSample, Reading, SaleSample } from '../../alerts/samples';
import type { AlertMute } from '../../alerts/suppression';
import type { AlertState, AlertTransition } from '../../alerts/types';

export const T0 = Date.UTC(2026, 0, 6, 14, 0);
export const at = (t: number) => T0 + t * 1000;

export interface LaneScript {
  lane: string;
  source?: string;
  /** Online bidders sampled at second t (every 5 s); null = no sample. */
  online?: (t: number) => number | null;
  /** The lane sends anything at second t (default: every second). */
  speaks?: (t: number) => boolean;
  open?: (t: number) => boolean;
  /** Any other sample field at second t. */
  fields?: (t: number) => Partial<LaneSample>;
}

export interface Scenario {
  lanes: LaneScript[];
  /** The feed connection's heartbeat at second t (default: every second). */
  heartbeat?: (t: number) => boolean;
  config?: AlertConfig;
  prior?: EvaluationContext['prior'];
  mutes?: (t: number) => AlertMute[];
  /** Attendance samples reach the evaluation this many seconds after their time (the server's reorder window). */
  sampleDelaySec?: number;
}

export interface Seen extends AlertTransition {
  /** Seconds since T0. */
  t: number;
}

/** Runs seconds [from, to] of a scenario; pass `state` (and the run's `memory`) to continue one. */
export function run(
  scenario: Scenario,
  from: number,
  to: number,
  state: AlertsState = createAlertsState(),
  memory = new FeedSoFar(),
) {
  const seen: Seen[] = [];
  const config = scenario.config ?? DEFAULT_ALERT_CONFIG;
  for (let t = from; t <= to; t++) {
    const sample = memory.sample(scenario, t);
    const context: EvaluationContext = {
      config,
      ...(scenario.prior ? { prior: scenario.prior } : {}),
      mutes: scenario.mutes?.(t) ?? [],
    };
    for (const transition of evaluateSale(state, sample, at(t), context)) seen.push({ ...transition, t });
  }
  return { seen, state, memory };
}

/** What the feed has said so far: readings and newest event times, as the engine would hold them. */
export class FeedSoFar {
  private readonly readings = new Map<string, Reading[]>();
  private readonly newest = new Map<string, number>();
  private heartbeatAt: number | null = null;

  sample(scenario: Scenario, t: number): SaleSample {
    const now = at(t);
    if (scenario.heartbeat?.(t) ?? true) this.heartbeatAt = now;
    const lanes = scenario.lanes.map((script) => this.laneSample(script, t, scenario.sampleDelaySec ?? 0));
    const sources = new Map<string, { source: string; newestEventAt: number | null; open: boolean }>();
    for (const lane of lanes) {
      const source = lane.source as string;
      const known = sources.get(source) ?? { source, newestEventAt: this.heartbeatAt, open: false };
      known.newestEventAt = Math.max(known.newestEventAt ?? -Infinity, lane.newestEventAt ?? -Infinity);
      known.open ||= lane.open;
      sources.set(source, known);
    }
    return {
      auction: 'dallas',
      sale: 's1',

      open: true,
      openedAt: T0,
      lanes,
      sources: [...sources.values()],
    };
  }

  private laneSample(script: LaneScript, t: number, delaySec: number): LaneSample {
    const now = at(t);
    const readings = this.readings.get(script.lane) ?? [];
    this.readings.set(script.lane, readings);
    const sampled = t - delaySec;
    const online = sampled >= 0 && sampled % 5 === 0 ? (script.online?.(sampled) ?? null) : null;
    if (online !== null) readings.push({ ts: at(sampled), online });
    while (readings.length > 0 && (readings[0] as Reading).ts < now - 60_000) readings.shift();
    if (script.speaks?.(t) ?? true) this.newest.set(script.lane, now);
    return {
      auction: 'dallas',
      sale: 's1',
      lane: script.lane,
      source: script.source ?? 'feed-1',
      open: script.open?.(t) ?? true,
      openedAt: T0,
      newestEventAt: this.newest.get(script.lane) ?? null,
      readings: [...readings],
      onlineBidders: readings.at(-1)?.online ?? null,
      streamLatencyMs: 1000,
      feedGaps: 0,
      auctioneer: 'Alma Boone',
      clerk: 'Dale Garza',
      runUpAt: now - 20_000,
      runHasOnlineBid: true,
      lastOutcomeAt: now - 25_000,
      secondsPerVehicle: 45,
      hammerLeadSec: 6,
      clerkLatencyP95Ms: 1200,
      clerkLatencyBids: 20,
      missedOnlineBidsLast10Min: 0,
      offered: 0,
      noSale: 0,
      runsWithOnlineBid: 0,
      ...script.fields?.(t),
    };
  }
}

/** A config with a patch applied; throws on an invalid patch so a test cannot silently use defaults. */
export function configWith(patch: unknown): AlertConfig {
  const check = mergeAlertConfig(DEFAULT_ALERT_CONFIG, patch);
  if (!check.ok) throw new Error(check.errors.join('; '));
  return check.config;
}

/** Transitions of one rule (and lane), as `[t, to]` pairs: the shape most assertions want. */
export function steps(
  seen: readonly Seen[],
  rule: string,
  lane?: string,
  scope = lane === undefined ? undefined : 'lane',
): [number, AlertState][] {
  return seen
    .filter(
      (s) =>
        s.alert.rule === rule &&
        (lane === undefined || s.alert.lane === lane) &&
        (scope === undefined || s.alert.scope === scope),
    )
    .map((s) => [s.t, s.to]);
}

/** Seconds at which an episode of the rule started firing (new episodes only). */
export function firings(seen: readonly Seen[], rule: string, lane?: string): number[] {
  return seen
    .filter(
      (s) =>
        s.alert.rule === rule &&
        (lane === undefined || s.alert.lane === lane) &&
        s.to === 'firing' &&
        s.alert.firedAt === s.at,
    )
    .map((s) => s.t);
}

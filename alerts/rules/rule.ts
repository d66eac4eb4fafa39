/**
 * What every rule is: a pure function of (its memory, a sample, now) giving a verdict on its
 * condition, the figures behind it and the memory to keep. Rules never see the lifecycle's
 * timers, suppression or flapping (./lifecycle, ./flapping, ../evaluator own those); the one
 * exception is the decline rule, which reads its own lifecycle state to stop learning while it
 * is declining.
 */
import type { AlertRule } from '../types';
import type { AlertConfig } from '../config';
import type { Lifecycle, Timing, Verdict } from '../lifecycle';
import type { LaneSample, Reading } from '../samples';
import type { SeasonalPrior } from '../seasonal';

/** Named numbers behind a verdict, e.g. `{ onlineBidders: 16, baseline: 31 }`; they go on the alert. */
export type Figures = Record<string, number | null>;

export interface RuleResult<Memory> {
  memory: Memory;
  verdict: Verdict;
  /** Fire at this time even if the hold is not over (a faster path the rule tracks itself). */
  readyAt?: number;
  /**
   * With a breach: when it began, if the rule knows better than the evaluation's `now` — the time
   * of the sample that showed it, which reaches the evaluation a reorder window later. The hold
   * counts from there, so that window does not delay the alert.
   */
  breachAt?: number;
  figures: Figures;
  /**
   * What the verdict was read from (a sample's time, a figure's value): a new value makes the
   * evaluation count for flap detection (./flapping). Null when there is nothing yet.
   */
  evidence: number | null;
}

/** Everything a lane rule may read at one evaluation. */
export interface LaneInput {
  sample: LaneSample;
  now: number;
  config: AlertConfig;
  /** Attendance samples no earlier evaluation has seen, oldest first. */
  readings: readonly Reading[];
  /** The lane's data is older than its staleness limit, or its source's is: hold, learn nothing. */
  stale: boolean;
  /** When the lane last opened (a lane can close and open again within a sale). */
  openSince: number;
  /** The lane opened less than the warmup ago, or has given too few samples since. */
  warming: boolean;
  /** This rule's own key, before this evaluation. */
  lifecycle: Lifecycle;
  /** What the feed.stale rule knows of the lane's connection (heartbeats included), if anything. */
  source: { newestAt: number | null; resumedAt: number | null } | null;
  prior: SeasonalPrior | undefined;
}

/** Wording of a rule for the one-line messages: `${subject}: ${problem}`. */
export interface RuleWording {
  /** What is watched, for states that have no problem to describe: "online bidders", "feed". */
  label: string;
  /** The trouble, e.g. "online bidders down 48 % (31 → 16)". */
  problem(figures: Figures): string;
  /** The all-clear, e.g. "online bidders back to 29 (baseline 31)". */
  recovered(figures: Figures): string;
}

export interface LaneRule<Memory> extends RuleWording {
  rule: AlertRule;
  initial(): Memory;
  timing(config: AlertConfig): Timing;
  // Method syntax: the registry holds rules of different memories side by side.
  evaluate(memory: Memory, input: LaneInput): RuleResult<Memory>;
}

export function secondsTiming(rule: { holdSec: number; clearSec: number }): Timing {
  return { holdMs: rule.holdSec * 1000, clearMs: rule.clearSec * 1000 };
}

/**
 * The verdict of a plain two-threshold rule: `breach` past the fire threshold, `clear` past the
 * clear one, `between` inside the band; `unknown` without a value.
 */
export function hysteresis(
  value: number | null,
  breach: (v: number) => boolean,
  clear: (v: number) => boolean,
): Verdict {
  if (value === null) return 'unknown';
  return breach(value) ? 'breach' : clear(value) ? 'clear' : 'between';
}

export function round(value: number | null, digits = 0): number | null {
  if (value === null) return null;
  const unit = 10 ** digits;
  return Math.round(value * unit) / unit;
}

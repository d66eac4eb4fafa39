/**
 * A lane's attendance baseline — what its online count "should" be now — and the CUSUM that
 * watches the count fall away from it.
 *
 * Recent level: an EWMA (λ = 0.2 a minute) over closed minutes' mean count, rather than the median of the
 * last 10 minutes. Both remember about five minutes and both leave out the current minute, but the
 * EWMA is one number: it can stop learning while the lane is stale or declining (a median window
 * keeps sliding and learns the drop as the new normal within minutes), it survives a restart as
 * one number, and it can be seasonally adjusted. Seasonal adjustment: each minute's mean is
 * divided by the seasonal prior's value for that minute before it is learned, and the level is
 * multiplied back by the prior's value for the current minute. The baseline thus follows the
 * site's usual shape (the log-in ramp, the end-of-sale fade) without lagging behind it, while the
 * level itself stays this sale's own. Without a prior the factor is 1.
 *
 * CUSUM: one-sided, on each closed minute's Poisson-standardized shortfall
 * z = (baseline − mean) / √(baseline / samples + (model error)²), S = max(0, S + z − slack),
 * capped at the threshold: past it the alarm is on, and more would only delay the all-clear once
 * the count recovers. Per minute rather
 * than per sample: a bleed of 10 % on a lane of 20 is 0.45 σ of one sample — below any slack that
 * keeps noise from adding up over a 4-hour sale — but 1.5 σ of a minute's mean. A minute's mean
 * has so little Poisson noise on a big lane that the baseline's own error (the lane's slow ±5 %
 * swell, the prior's timing) would then dominate, so that error is added to the variance
 * (`modelErrorPct`), as an over-dispersed Poisson model does.
 *
 * All state is plain data (it is part of the evaluator's persisted state). The functions here
 * update a working copy in place; the decline rule makes that copy.
 */
import type { SeasonalPrior } from './seasonal';

const MIN = 60_000;

export interface AttendanceBaseline {
  /** The learned level in units of the seasonal factor; null before a minute has closed. */
  level: number | null;
  /** Minutes learned so far. */
  learned: number;
  /** The open minute (minutes since the lane opened), its sum and number of samples. */
  minute: number | null;
  sum: number;
  count: number;
  /** The prior's value at the first minute it had one: factors are relative to it. */
  reference: number | null;
  /** The last factor found, carried over minutes the prior has nothing for. */
  factor: number;
  cusum: number;
}

/** Looks up the seasonal factor of one lane; undefined when there is no prior. */
export interface SeasonalLookup {
  prior: SeasonalPrior | undefined;
  auction: string;
  lane: string;
  openedAt: number;
}

export function newBaseline(): AttendanceBaseline {
  return { level: null, learned: 0, minute: null, sum: 0, count: 0, reference: null, factor: 1, cusum: 0 };
}

export function minuteOf(ts: number, seasonal: SeasonalLookup): number {
  return Math.max(0, Math.floor((ts - seasonal.openedAt) / MIN));
}

/** A minute just closed, before it is learned: its mean, how many samples, its seasonal factor. */
export interface ClosedMinute {
  mean: number;
  samples: number;
  factor: number;
}

/** Adds one sample; the first sample of a new minute closes the previous one and returns it. */
export function addSample(
  baseline: AttendanceBaseline,
  ts: number,
  online: number,
  seasonal: SeasonalLookup,
): ClosedMinute | null {
  const minute = minuteOf(ts, seasonal);
  if (baseline.minute !== null && minute < baseline.minute) return null;
  let closed: ClosedMinute | null = null;
  if (baseline.minute !== null && minute > baseline.minute && baseline.count > 0) {
    closed = {
      mean: baseline.sum / baseline.count,
      samples: baseline.count,
      factor: factorAt(baseline, baseline.minute, seasonal),
    };
    baseline.sum = 0;
    baseline.count = 0;
  }
  baseline.minute = minute;
  baseline.sum += online;
  baseline.count++;
  return closed;
}

/** What the baseline expected of a closed minute, or null before any minute was learned. */
export function expectedOf(baseline: AttendanceBaseline, closed: ClosedMinute): number | null {
  return baseline.level === null ? null : baseline.level * closed.factor;
}

/**
 * Learns a closed minute into the level. Not called while the lane is declining or the CUSUM
 * already sees a bleed, so a drop is never learned as the new normal. The first 1/λ minutes are
 * averaged with equal weight: an EWMA started from one minute keeps that minute's noise (a 3 σ
 * first minute is 25 % off on a small lane) for its whole memory.
 */
export function learn(baseline: AttendanceBaseline, closed: ClosedMinute, lambda: number): void {
  const deseasonalized = closed.mean / closed.factor;
  const weight = Math.max(lambda, 1 / (baseline.learned + 1));
  baseline.level =
    baseline.level === null ? deseasonalized : baseline.level + weight * (deseasonalized - baseline.level);
  baseline.learned++;
}

/** The level has learned a full memory's worth of minutes (1/λ): enough to judge a bleed by. */
export function isSettled(baseline: AttendanceBaseline, lambda: number): boolean {
  return baseline.learned >= Math.ceil(1 / lambda);
}

/** The expected online count at `ts`, or null before the first minute has closed. */
export function expectedAt(baseline: AttendanceBaseline, ts: number, seasonal: SeasonalLookup): number | null {
  return baseline.level === null ? null : baseline.level * factorAt(baseline, minuteOf(ts, seasonal), seasonal);
}

/** Adds one closed minute's standardized shortfall to the CUSUM. */
export function accumulate(baseline: AttendanceBaseline, z: number, slack: number, threshold: number): void {
  baseline.cusum = Math.min(threshold, Math.max(0, baseline.cusum + z - slack));
}

function factorAt(baseline: AttendanceBaseline, minute: number, seasonal: SeasonalLookup): number {
  const expected = seasonal.prior?.expected(seasonal.auction, seasonal.lane, minute);
  if (expected === undefined || !(expected > 0)) return baseline.factor;
  baseline.reference ??= expected;
  baseline.factor = expected / baseline.reference;
  return baseline.factor;
}

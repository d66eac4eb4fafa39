/**
 * `attendance.decline`, per lane and per sale (../../shared/METRICS.md §Alerts, decline baseline).
 *
 * Lane: three ways in, one way out.
 * - Threshold: the latest sample is ≥ 25 % and ≥ max(3, 2·√baseline) below a baseline of ≥ 5,
 *   for 30 s (the lifecycle's hold). One sample cannot hold 30 s, so Poisson noise does not fire.
 * - CUSUM (../baseline), per closed minute: a bleed too slow to cross 25 % before the baseline
 *   would have learned it.
 * - Disconnect: a ≥ 60 % drop in one sample (or to 0 from ≥ 5) that meets the threshold fires
 *   after 10 s instead of 30 if the samples stay at ≤ 40 % of the level it fell from (a lane of
 *   20 does dip to 8 for one sample by chance; it does not stay there), and provided the lane has
 *   sent anything after the drop: a zero followed by silence is a dead feed, which feed.stale
 *   reports, not a decline.
 * - Recovered: the mean of the last 30 s of samples is back within 12.5 % of the baseline for
 *   60 s — and, after a bleed the CUSUM found, the CUSUM is back down to where the baseline learns
 *   again (its own hysteresis: a bleed of 10 % is within 12.5 % and not over). The mean, not the
 *   latest sample: a lane of 20 bidders is outside ±12.5 % on a quarter of its samples by noise
 *   alone, which would restart the clock again and again.
 * While the lane is stale the detector holds: no verdict, no learning ("stale is not zero").
 *
 * Sale: the same threshold over the lanes that are open, warmed up and fresh — their latest
 * samples summed against their baselines summed, so a lane going stale or closing leaves both
 * sides at once instead of looking like a drop. Recovered within 10 %. Its disconnect path is the
 * sum at ≤ 40 % of its baseline for 10 s: lanes sample at different instants, so a platform-wide
 * outage takes the sum down over one sampling period rather than in one step.
 */
import {
  accumulate,
  addSample,
  expectedAt,
  expectedOf,
  isSettled,
  learn,
  newBaseline,
  type AttendanceBaseline,
  type SeasonalLookup,
} from '../baseline';
import type { AlertConfig } from '../config';
import type { Timing } from '../lifecycle';
import type { Figures, LaneInput, LaneRule, RuleResult, RuleWording } from './rule';
import { round, secondsTiming } from './rule';

type DeclineThresholds = AlertConfig['attendance.decline']['lane'];

export interface LaneDeclineMemory {
  baseline: AttendanceBaseline;
  /** The latest sample and its time. */
  latest: number | null;
  latestAt: number | null;
  /**
   * The disconnect pattern, while it lasts: the sample that showed it and the level it fell from
   * (it lasts while samples stay at ≤ 40 % of that).
   */
  disconnect: { sampleAt: number; from: number } | null;
  /**
   * Which way the current trouble came in, until it is over: a drop past the threshold (or a
   * disconnect) clears as METRICS.md says, by the level alone; a bleed the CUSUM found clears only
   * once the CUSUM is back down to where the baseline learns again.
   */
  trouble: 'drop' | 'bleed' | null;
}

/** The lane figures the sale-level rule sums. */
export interface LaneAttendance {
  baseline: number;
  latest: number;
  /** Mean of the last `clearLevelSec` of samples. */
  recent: number;
}

const wording: RuleWording = {
  label: 'online bidders',
  problem: (f) => `online bidders down ${f.dropPct ?? '?'} % (${f.baseline ?? '?'} → ${f.onlineBidders ?? '?'})`,
  recovered: (f) => `online bidders back to ${f.recentLevel ?? f.onlineBidders ?? '?'} (baseline ${f.baseline ?? '?'})`,
};

/** All three conditions of a decline of `level` below `baseline`. */
export function isDecline(baseline: number, level: number, t: DeclineThresholds): boolean {
  const drop = baseline - level;
  return (
    baseline >= t.minBaseline &&
    drop >= (t.dropPct / 100) * baseline &&
    drop >= Math.max(t.minDrop, t.noiseSigmas * Math.sqrt(baseline))
  );
}

/**
 * The most online bidders that still count as a decline below `baseline` (`isDecline` holds for
 * every level at or below it), or null when no level would (a baseline under `minBaseline`). The
 * wall display draws it as the lower edge of its baseline band.
 */
export function declineLevel(baseline: number, t: DeclineThresholds): number | null {
  if (baseline < t.minBaseline) return null;
  return baseline - Math.max((t.dropPct / 100) * baseline, t.minDrop, t.noiseSigmas * Math.sqrt(baseline));
}

export const laneDecline: LaneRule<LaneDeclineMemory> = {
  rule: 'attendance.decline',
  ...wording,
  initial: () => ({ baseline: newBaseline(), latest: null, latestAt: null, disconnect: null, trouble: null }),
  timing: (config) => secondsTiming(config['attendance.decline'].lane),
  evaluate(memory, input) {
    const { sample, now, config } = input;
    const settings = config['attendance.decline'];
    const seasonal: SeasonalLookup = {
      prior: input.prior,
      auction: sample.auction,
      lane: sample.lane,
      openedAt: sample.openedAt,
    };
    const next: LaneDeclineMemory = { ...memory, baseline: { ...memory.baseline } };
    const recent = recentMean(input, settings.baseline.clearLevelSec);
    if (input.stale) {
      // Stale is not zero: no verdict and nothing learned until the lane speaks again.
      const expected = expectedAt(next.baseline, now, seasonal);
      return { memory, verdict: 'unknown', figures: figures(expected, next, recent), evidence: memory.latestAt };
    }

    const { state } = input.lifecycle;
    const declining = state === 'pending' || state === 'firing' || state === 'recovering';
    if (!declining && next.trouble !== null) {
      // A resolved episode starts the CUSUM afresh: a drop's sum would otherwise fire it again.
      if (state === 'resolved') next.baseline.cusum = 0;
      next.trouble = null;
    }
    for (const reading of input.readings) {
      const closed = addSample(next.baseline, reading.ts, reading.online, seasonal);
      if (closed !== null) {
        const expected = expectedOf(next.baseline, closed);
        let learned = closed;
        if (expected !== null) {
          const modelError = (settings.cusum.modelErrorPct / 100) * expected;
          const sd = Math.sqrt(expected / closed.samples + modelError * modelError);
          if (
            !input.warming &&
            isSettled(next.baseline, settings.baseline.ewmaLambda) &&
            expected >= settings.lane.minBaseline
          ) {
            accumulate(next.baseline, (expected - closed.mean) / sd, settings.cusum.slack, settings.cusum.threshold);
          }
          // A minute far below the expectation is learned as one σ below: a bleed then pulls the
          // baseline down by at most λ·σ a minute, while ordinary minutes are learned as they are.
          learned = { ...closed, mean: Math.max(closed.mean, expected - sd) };
        }
        if (!declining && next.baseline.cusum <= settings.cusum.freezeAbove)
          learn(next.baseline, learned, settings.baseline.ewmaLambda);
      }
      const expected = expectedAt(next.baseline, reading.ts, seasonal);
      const fast = settings.fastPath;
      if (next.disconnect !== null && reading.online > (1 - fast.dropPct / 100) * next.disconnect.from)
        next.disconnect = null;
      if (
        !input.warming &&
        expected !== null &&
        next.latest !== null &&
        isDisconnect(next.latest, reading.online, expected, config)
      ) {
        next.disconnect ??= { sampleAt: reading.ts, from: next.latest };
      }
      next.latest = reading.online;
      next.latestAt = reading.ts;
    }

    const expected = expectedAt(next.baseline, now, seasonal);
    const shown = figures(expected, next, recent);
    if (expected === null || next.latest === null) {
      return { memory: next, verdict: 'unknown', figures: shown, evidence: next.latestAt };
    }
    const threshold = isDecline(expected, next.latest, settings.lane);
    if (!threshold) next.disconnect = null;
    const bleeding = next.baseline.cusum >= settings.cusum.threshold;
    if (next.trouble === null && (threshold || bleeding)) next.trouble = threshold ? 'drop' : 'bleed';
    if (threshold || (bleeding && next.trouble === 'bleed')) {
      // The disconnect path counts only once the feed has proved alive after the drop.
      const { disconnect } = next;
      const alive = disconnect !== null && (sample.newestEventAt ?? -Infinity) > disconnect.sampleAt;
      const readyAt = alive ? { readyAt: disconnect.sampleAt + settings.fastPath.holdSec * 1000 } : {};
      const breachAt = next.latestAt ?? now;
      return { memory: next, verdict: 'breach', breachAt, ...readyAt, figures: shown, evidence: next.latestAt };
    }
    const back = recent !== null && recent >= (1 - settings.lane.clearWithinPct / 100) * expected;
    const calm = next.trouble !== 'bleed' || next.baseline.cusum <= settings.cusum.freezeAbove;
    return { memory: next, verdict: back && calm ? 'clear' : 'between', figures: shown, evidence: next.latestAt };
  },
};

/** The lane's figures the sale rule sums, or null when the lane has no baseline yet. */
export function laneAttendance(figures: Figures): LaneAttendance | null {
  const { baseline, onlineBidders, recentLevel } = figures;
  if (baseline == null || onlineBidders == null) return null;
  return { baseline, latest: onlineBidders, recent: recentLevel ?? onlineBidders };
}

export interface SaleDeclineMemory {
  /** Newest sample time over the summed lanes (the evidence). */
  latestAt: number | null;
  /** When the sum first sat at the disconnect level, while it does. */
  disconnectSince: number | null;
}

export interface SaleDeclineRule extends RuleWording {
  rule: 'attendance.decline';
  initial(): SaleDeclineMemory;
  timing(config: AlertConfig): Timing;
  evaluate(
    memory: SaleDeclineMemory,
    lanes: readonly LaneAttendance[],
    latestAt: number | null,
    now: number,
    config: AlertConfig,
  ): RuleResult<SaleDeclineMemory>;
}

export const saleDecline: SaleDeclineRule = {
  rule: 'attendance.decline',
  ...wording,
  initial: () => ({ latestAt: null, disconnectSince: null }),
  timing: (config) => secondsTiming(config['attendance.decline'].sale),
  evaluate(memory, lanes, latestAt, now, config) {
    const settings = config['attendance.decline'];
    const baseline = lanes.reduce((sum, lane) => sum + lane.baseline, 0);
    const latest = lanes.reduce((sum, lane) => sum + lane.latest, 0);
    const recent = lanes.reduce((sum, lane) => sum + lane.recent, 0);
    const figures: Figures = {
      onlineBidders: latest,
      baseline: round(baseline, 1),
      dropPct: baseline > 0 ? round(((baseline - latest) / baseline) * 100) : null,
      recentLevel: round(recent, 1),
      lanes: lanes.length,
    };
    if (lanes.length === 0) return { memory, verdict: 'unknown', figures, evidence: memory.latestAt };

    const threshold = isDecline(baseline, latest, settings.sale);
    const outage =
      threshold &&
      baseline >= settings.fastPath.fromAtLeast &&
      latest <= (1 - settings.fastPath.dropPct / 100) * baseline;
    const next: SaleDeclineMemory = { latestAt, disconnectSince: outage ? (memory.disconnectSince ?? now) : null };
    const verdict = threshold
      ? 'breach'
      : recent >= (1 - settings.sale.clearWithinPct / 100) * baseline
        ? 'clear'
        : 'between';
    const readyAt = next.disconnectSince === null ? undefined : next.disconnectSince + settings.fastPath.holdSec * 1000;
    return {
      memory: next,
      verdict,
      ...(verdict === 'breach' && latestAt !== null ? { breachAt: latestAt } : {}),
      ...(readyAt === undefined ? {} : { readyAt }),
      figures,
      evidence: latestAt,
    };
  },
};

/** A ≥ 60 % drop from the previous sample (≥ 5), to a level that is a decline by the threshold. */
function isDisconnect(previous: number, online: number, expected: number, config: AlertConfig): boolean {
  const fast = config['attendance.decline'].fastPath;
  return (
    previous >= fast.fromAtLeast &&
    online <= (1 - fast.dropPct / 100) * previous &&
    isDecline(expected, online, config['attendance.decline'].lane)
  );
}

function recentMean(input: LaneInput, seconds: number): number | null {
  let sum = 0;
  let n = 0;
  for (const reading of input.sample.readings) {
    if (reading.ts <= input.now - seconds * 1000) continue;
    sum += reading.online;
    n++;
  }
  return n === 0 ? null : sum / n;
}

function figures(expected: number | null, memory: LaneDeclineMemory, recent: number | null): Figures {
  const latest = memory.latest;
  return {
    onlineBidders: latest,
    baseline: round(expected, 1),
    dropPct:
      expected !== null && expected > 0 && latest !== null ? round(((expected - latest) / expected) * 100) : null,
    recentLevel: round(recent, 1),
    cusum: round(memory.baseline.cusum, 2),
  };
}

/**
 * `bids.missed`: at least 2 online bids pressed and never accepted before their run's outcome in
 * the last 10 minutes (the engine's `missedOnlineBids.last10Min`); clears when none was missed for
 * 10 minutes.
 */
import type { LaneRule } from './rule';
import { hysteresis, secondsTiming } from './rule';

export const bidsMissed: LaneRule<null> = {
  rule: 'bids.missed',
  label: 'online bids',
  problem: (f) => `${f.missedLast10Min ?? '?'} online bids missed in the last 10 min`,
  recovered: () => 'no online bid missed for 10 min',
  initial: () => null,
  timing: (config) => secondsTiming(config['bids.missed']),
  evaluate(memory, { sample, config, stale }) {
    const missed = sample.missedOnlineBidsLast10Min;
    const verdict = stale
      ? 'unknown'
      : hysteresis(
          missed,
          (v) => v >= config['bids.missed'].fireCount,
          (v) => v === 0,
        );
    return { memory, verdict, figures: { missedLast10Min: missed }, evidence: missed };
  },
};

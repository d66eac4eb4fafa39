/**
 * `clerk.slow`: the p95 time from an online bidder's press to the clerk accepting it is over 3 s,
 * over at least 5 online bids (the engine keeps the last 20); it clears below 2 s.
 */
import type { LaneRule } from './rule';
import { hysteresis, secondsTiming } from './rule';

export const clerkSlow: LaneRule<null> = {
  rule: 'clerk.slow',
  label: 'clerk',
  problem: (f) => `clerk takes ${seconds(f.clerkLatencyP95Ms)} s to accept online bids (p95 of ${f.bids ?? '?'})`,
  recovered: (f) => `clerk accepts online bids in ${seconds(f.clerkLatencyP95Ms)} s again (p95)`,
  initial: () => null,
  timing: (config) => secondsTiming(config['clerk.slow']),
  evaluate(memory, { sample, config, stale }) {
    const settings = config['clerk.slow'];
    const p95 = sample.clerkLatencyP95Ms;
    const figures = { clerkLatencyP95Ms: p95, bids: sample.clerkLatencyBids };
    // Too few bids to judge either way: a quiet start must not clear a slow clerk or accuse a new one.
    const verdict =
      stale || sample.clerkLatencyBids < settings.minBids
        ? 'unknown'
        : hysteresis(
            p95,
            (v) => v > settings.fireP95Ms,
            (v) => v < settings.clearP95Ms,
          );
    return { memory, verdict, figures, evidence: p95 };
  },
};

function seconds(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '?' : (ms / 1000).toFixed(1);
}

/**
 * `stream.lagging`: the delay online bidders see on the lane's video stream (latest
 * `stream.health.latencyMs`) is over 3 s for 30 s; clears under 2 s for 30 s.
 */
import type { LaneRule } from './rule';
import { hysteresis, secondsTiming } from './rule';

export const streamLagging: LaneRule<null> = {
  rule: 'stream.lagging',
  label: 'stream',
  problem: (f) => `stream delayed ${seconds(f.streamLatencyMs)} s`,
  recovered: (f) => `stream delay back to ${seconds(f.streamLatencyMs)} s`,
  initial: () => null,
  timing: (config) => secondsTiming(config['stream.lagging']),
  evaluate(memory, { sample, config, stale }) {
    const settings = config['stream.lagging'];
    const latency = sample.streamLatencyMs;
    const verdict = stale
      ? 'unknown'
      : hysteresis(
          latency,
          (v) => v > settings.fireMs,
          (v) => v < settings.clearMs,
        );
    // Each reading is a new value in practice (milliseconds of a noisy delay): it is the evidence.
    return { memory, verdict, figures: { streamLatencyMs: latency }, evidence: latency };
  },
};

function seconds(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '?' : (ms / 1000).toFixed(1);
}

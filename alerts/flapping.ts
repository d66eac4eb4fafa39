/**
 * Flap detection (../shared/METRICS.md §Alerts): a key whose state flips in more than half of its
 * last 21 evaluations is `flapping` — one "unstable" message instead of a stream of fire/resolve
 * pairs — until it calms down to a quarter.
 *
 * An evaluation counts once per piece of new evidence (a new attendance sample, a new event from
 * the feed, a new latency reading: each rule says what its evidence is). The evaluator also runs
 * every second in between, and those runs cannot flip a state on their own except by a timer, so
 * counting them would dilute the window to nothing; a flip in between is credited to the next
 * counted evaluation.
 */
import type { AlertConfig } from './config';

export interface FlapHistory {
  /** The last `evaluations` counted evaluations, newest in bit 0: 1 = the state flipped. */
  bits: number;
  /** Evidence of the last counted evaluation. */
  evidence: number | null;
  /** The state flipped since the last counted evaluation. */
  flippedSince: boolean;
  flapping: boolean;
}

export function calmHistory(): FlapHistory {
  return { bits: 0, evidence: null, flippedSince: false, flapping: false };
}

/** Records one evaluation: whether the key's state flipped in it, and the evidence it read. */
export function recordEvaluation(
  history: FlapHistory,
  flipped: boolean,
  evidence: number | null,
  config: AlertConfig['flapping'],
): FlapHistory {
  const flippedSince = history.flippedSince || flipped;
  if (evidence === null || evidence === history.evidence) {
    return flippedSince === history.flippedSince ? history : { ...history, flippedSince };
  }
  const mask = 2 ** config.evaluations - 1;
  const bits = ((history.bits * 2) % (mask + 1)) + (flippedSince ? 1 : 0);
  const flips = countBits(bits);
  const flapping = history.flapping ? flips > config.flipsToLeave : flips >= config.flipsToEnter;
  return { bits, evidence, flippedSince: false, flapping };
}

export function flipsIn(history: FlapHistory): number {
  return countBits(history.bits);
}

function countBits(bits: number): number {
  let n = 0;
  for (let rest = bits; rest > 0; rest = Math.floor(rest / 2)) n += rest % 2;
  return n;
}

/**
 * `online.silent`: at least 10 online bidders are connected, yet none has pressed on the last 8
 * finished runs — they are watching but cannot (or will not) bid. An online bid clears it.
 *
 * The engine counts runs with an online bid sale to date; the rule keeps the run of finished runs
 * without one, from how those two counts move between evaluations.
 */
import type { LaneRule } from './rule';
import { secondsTiming } from './rule';

export interface SilentMemory {
  /** The engine's counts at the last evaluation; null before the first. */
  offered: number | null;
  runsWithOnlineBid: number;
  /** Finished runs in a row without an online bid. */
  runsWithout: number;
}

export const onlineSilent: LaneRule<SilentMemory> = {
  rule: 'online.silent',
  label: 'online bidding',
  problem: (f) =>
    `no online bid on the last ${f.runsWithoutOnlineBid ?? '?'} runs with ${f.onlineBidders ?? '?'} online`,
  recovered: () => 'online bidders are bidding again',
  initial: () => ({ offered: null, runsWithOnlineBid: 0, runsWithout: 0 }),
  timing: (config) => secondsTiming(config['online.silent']),
  evaluate(memory, { sample, config, stale }) {
    const settings = config['online.silent'];
    const finished = memory.offered === null ? 0 : sample.offered - memory.offered;
    const withBid = sample.runsWithOnlineBid - memory.runsWithOnlineBid;
    const runsWithout =
      memory.offered === null ? 0 : withBid > 0 ? 0 : finished > 0 ? memory.runsWithout + finished : memory.runsWithout;
    const next: SilentMemory = { offered: sample.offered, runsWithOnlineBid: sample.runsWithOnlineBid, runsWithout };
    const figures = { runsWithoutOnlineBid: runsWithout, onlineBidders: sample.onlineBidders };
    const evidence = sample.lastOutcomeAt;
    if (stale) return { memory: next, verdict: 'unknown', figures, evidence };
    const bidding = sample.runHasOnlineBid || runsWithout === 0;
    const silent = !bidding && runsWithout >= settings.runs && (sample.onlineBidders ?? 0) >= settings.minOnline;
    return { memory: next, verdict: silent ? 'breach' : bidding ? 'clear' : 'between', figures, evidence };
  },
};

/**
 * `lane.stalled`: the lane is open and no vehicle has gone up for longer than max(90 s, 2 × its
 * median run time), or one vehicle has been on the block for more than 300 s. The next vehicle up
 * (or that run's outcome) clears it. Idle time counts from the last outcome, or from the lane's
 * opening when it has had none since.
 */
import type { LaneRule } from './rule';
import { round, secondsTiming } from './rule';

export const laneStalled: LaneRule<null> = {
  rule: 'lane.stalled',
  label: 'lane',
  problem: (f) =>
    f.runOpenSec !== null && f.runOpenSec !== undefined
      ? `one vehicle on the block for ${f.runOpenSec} s`
      : `no vehicle up for ${f.idleSec ?? '?'} s`,
  recovered: () => 'vehicles moving again',
  initial: () => null,
  timing: (config) => secondsTiming(config['lane.stalled']),
  evaluate(memory, { sample, now, config, stale, openSince }) {
    const settings = config['lane.stalled'];
    const evidence = Math.max(sample.runUpAt ?? -Infinity, sample.lastOutcomeAt ?? -Infinity, openSince);
    const limitSec = Math.max(settings.minIdleSec, settings.runTimeMultiple * (sample.secondsPerVehicle ?? 0));
    if (sample.runUpAt !== null) {
      const runOpenSec = (now - sample.runUpAt) / 1000;
      const figures = { runOpenSec: round(runOpenSec), idleSec: null, limitSec: settings.maxRunSec };
      if (stale) return { memory, verdict: 'unknown', figures, evidence };
      return { memory, verdict: runOpenSec > settings.maxRunSec ? 'breach' : 'clear', figures, evidence };
    }
    // Idle since the last outcome, or since the lane (re)opened when that is later.
    const idleSec = (now - Math.max(sample.lastOutcomeAt ?? -Infinity, openSince)) / 1000;
    const figures = { runOpenSec: null, idleSec: round(idleSec), limitSec: round(limitSec) };
    if (stale) return { memory, verdict: 'unknown', figures, evidence };
    return { memory, verdict: idleSec > limitSec ? 'breach' : 'clear', figures, evidence };
  },
};

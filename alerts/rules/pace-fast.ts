/**
 * `pace.fast`: with at least 10 online bidders, the lane hammers less than 3 s after the last
 * online press (median `hammerLeadSec`) or runs a vehicle in under 30 s; online bidders cannot
 * answer at that pace. Clears at a lead of ≥ 5 s and ≥ 35 s a vehicle.
 */
import type { LaneRule } from './rule';
import { round, secondsTiming } from './rule';

export const paceFast: LaneRule<null> = {
  rule: 'pace.fast',
  label: 'pace',
  problem: (f) =>
    `pace too fast for online bidders: hammer ${f.hammerLeadSec ?? '?'} s after the last online bid, ` +
    `${f.secondsPerVehicle ?? '?'} s a vehicle`,
  recovered: (f) =>
    `pace back to normal (hammer lead ${f.hammerLeadSec ?? '?'} s, ${f.secondsPerVehicle ?? '?'} s a vehicle)`,
  initial: () => null,
  timing: (config) => secondsTiming(config['pace.fast']),
  evaluate(memory, { sample, config, stale }) {
    const settings = config['pace.fast'];
    const lead = sample.hammerLeadSec;
    const perVehicle = sample.secondsPerVehicle;
    const figures = {
      hammerLeadSec: round(lead, 1),
      secondsPerVehicle: round(perVehicle),
      onlineBidders: sample.onlineBidders,
    };
    const evidence = sample.lastOutcomeAt;
    if (stale || (lead === null && perVehicle === null)) return { memory, verdict: 'unknown', figures, evidence };
    const fast =
      (sample.onlineBidders ?? 0) >= settings.minOnline &&
      ((lead !== null && lead < settings.fireLeadSec) ||
        (perVehicle !== null && perVehicle < settings.fireSecondsPerVehicle));
    const calm =
      (lead === null || lead >= settings.clearLeadSec) &&
      (perVehicle === null || perVehicle >= settings.clearSecondsPerVehicle);
    return { memory, verdict: fast ? 'breach' : calm ? 'clear' : 'between', figures, evidence };
  },
};

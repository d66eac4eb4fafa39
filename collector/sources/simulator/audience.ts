/**
 * The online audience of a lane and the stream it watches: how many bidders are expected at a
 * moment, and the noisy samples a platform would report.
 */
import { incidentAttendance, isLagging } from './incidents';
import type { LaneEventBody, LanePlan, SalePlan } from './plan';
import type { Random } from './random';

const MINUTE = 60_000;
/** A lane opens to about a third of its crowd; dealers log in over the first ~20 minutes. */
const OPENING_SHARE = 0.35;
/** Over the last ~30 minutes a quarter of the crowd drifts away: the normal end-of-sale fade. */
const CLOSING_LOSS = 0.25;
/** Amplitude of each lane's slow swell and ebb (LanePlan.wander). */
const WANDER = 0.05;

/** Expected online bidders on `lane` at `ts`, before sampling noise. */
export function expectedOnline(plan: SalePlan, lane: LanePlan, ts: number): number {
  const length = plan.end - plan.start;
  const ramp = Math.min(20 * MINUTE, length / 12);
  const fade = Math.min(30 * MINUTE, length / 8);
  const warm = Math.min(1, Math.max(0, (ts - lane.opensAt) / ramp));
  let shape = OPENING_SHARE + (1 - OPENING_SHARE) * warm * warm * (3 - 2 * warm);
  const toEnd = (plan.end - ts) / fade;
  if (toEnd < 1) shape *= 1 - CLOSING_LOSS * (1 - Math.max(0, toEnd));
  const wander = 1 + WANDER * Math.sin((2 * Math.PI * (ts - lane.opensAt)) / lane.wander.periodMs + lane.wander.phase);
  return lane.level * shape * wander * incidentAttendance(plan.incidents, lane.id, plan.collapseTo, ts);
}

/** Connected online bidders are Poisson around the expectation; viewers are a few times more. */
export function sampleAttendance(rng: Random, plan: SalePlan, lane: LanePlan, ts: number): LaneEventBody {
  const expected = expectedOnline(plan, lane, ts);
  const online = rng.poisson(expected);
  const watching = online + rng.poisson(expected * (lane.watchRatio - 1));
  return { type: 'attendance', ts, online, watching };
}

/** Delay seen by online bidders, with rebuffering stalls; a lagging stream sits at 4–6 s. */
export function sampleStream(rng: Random, plan: SalePlan, lane: LanePlan, ts: number): LaneEventBody {
  const lagging = isLagging(plan.incidents, lane.id, ts);
  const latency = lagging ? rng.uniform(4000, 6000) : rng.lognormal(lane.streamLatencyMs, 0.18);
  const stalls = rng.poisson(lagging ? 1.5 : 0.03);
  return { type: 'stream.health', ts, latencyMs: Math.round(latency), stalls };
}

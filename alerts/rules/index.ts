/**
 * The rules, one line each. Lane rules run in precedence order: `feed.stale` (lane), then
 * `lane.stalled`, then `attendance.decline` (../../shared/METRICS.md §Alerts, precedence); the
 * evaluator judges staleness and inhibition from the ones before.
 */
import type { AlertRule } from '../types';
import { bidsMissed } from './bids-missed';
import { clerkSlow } from './clerk-slow';
import { laneDecline, saleDecline } from './decline';
import { onlineSilent } from './online-silent';
import { paceFast } from './pace-fast';
import type { LaneRule } from './rule';
import { laneStale, sourceStale } from './stale';
import { laneStalled } from './stalled';
import { streamLagging } from './stream-lagging';

export { saleDecline, sourceStale };

export const LANE_RULES: readonly LaneRule<unknown>[] = [
  laneStale,
  laneStalled,
  laneDecline,
  clerkSlow,
  bidsMissed,
  paceFast,
  streamLagging,
  onlineSilent,
] as LaneRule<unknown>[];

/** Which lane rules a firing alert of the same lane (or its feed connection) silences. */
export const INHIBITS: Partial<Record<AlertRule, readonly AlertRule[]>> = {
  'feed.stale': ['lane.stalled', 'attendance.decline'],
  'lane.stalled': ['attendance.decline'],
};

const names = LANE_RULES.map((rule) => rule.rule);
const repeated = names.find((name, i) => names.indexOf(name) !== i);
if (repeated !== undefined) throw new Error(`lane rule ${repeated} is registered twice`);

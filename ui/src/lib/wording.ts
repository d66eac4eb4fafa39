/** How alerts read on the wall: a few words per rule and state (the server's `message` says the rest). */
import type { AlertRule, AlertState } from '../../../alerts/types';

export const RULE_LABELS: Record<AlertRule, string> = {
  'attendance.decline': 'Bidders falling',
  'feed.stale': 'No data',
  'lane.stalled': 'Lane stalled',
  'clerk.slow': 'Slow clerk',
  'bids.missed': 'Missed bids',
  'pace.fast': 'Too fast',
  'stream.lagging': 'Stream lag',
  'online.silent': 'Online silent',
};

/** One word, for a badge on a small tile. */
export const RULE_WORDS: Record<AlertRule, string> = {
  'attendance.decline': 'Falling',
  'feed.stale': 'No data',
  'lane.stalled': 'Stalled',
  'clerk.slow': 'Clerk',
  'bids.missed': 'Missed',
  'pace.fast': 'Fast',
  'stream.lagging': 'Lag',
  'online.silent': 'Silent',
};

export const STATE_LABELS: Record<AlertState, string> = {
  warmup: 'warming up',
  ok: 'ok',
  pending: 'watching',
  firing: 'firing',
  recovering: 'recovering',
  resolved: 'resolved',
  suppressed: 'muted',
  flapping: 'unstable',
};

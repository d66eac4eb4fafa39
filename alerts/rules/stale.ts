/**
 * `feed.stale`, per feed connection (source) and per lane: no event for max(15 s, 3 × the p95 gap
 * between its events) while open; a fresh event clears it at once. The limit adapts to each feed's
 * own rhythm, learned from the gaps this rule has seen (the last `gapsKept`; nearest-rank
 * percentile, as METRICS.md counts them).
 *
 * A lane's own events count, not its source's heartbeats: a lane whose platform stopped sending
 * while the connection still beats is exactly what this rule is for. But a lane goes quiet too
 * when its whole connection dies, and that is the source's alert; so the lane fires only once its
 * source has been speaking for the lane's whole limit after the lane's last event — proof the
 * connection is alive; when a dead connection comes back, its lanes get their limit again before
 * they count as stale (their first events may follow the connection's first heartbeat).
 */
import type { AlertConfig } from '../config';
import type { Timing } from '../lifecycle';
import type { SourceSample } from '../samples';
import type { Figures, LaneRule, RuleResult, RuleWording } from './rule';
import { round, secondsTiming } from './rule';
import { lowerBound } from '../../server/metrics/windows';

type StaleConfig = AlertConfig['feed.stale'];

export interface FeedMemory {
  newestAt: number | null;
  /** Gaps between successive newest-event times seen, oldest first, and the same sorted. */
  gaps: number[];
  sortedGaps: number[];
  /** The current limit, recomputed when a gap is added. */
  limitMs: number;
  /** The first event after the feed's last silence longer than its limit. */
  resumedAt: number | null;
}

const wording: RuleWording = {
  label: 'feed',
  problem: (f) => `no event for ${f.feedAgeSec ?? '?'} s (limit ${f.limitSec ?? '?'} s)`,
  recovered: () => 'events flowing again',
};

function initial(): FeedMemory {
  return { newestAt: null, gaps: [], sortedGaps: [], limitMs: 0, resumedAt: null };
}

/** Takes in the feed's newest event time; returns the same memory when nothing new came. */
function observe(memory: FeedMemory, newestAt: number | null, config: StaleConfig): FeedMemory {
  const floorMs = config.minSec * 1000;
  if (newestAt === null || (memory.newestAt !== null && newestAt <= memory.newestAt)) {
    return memory.limitMs === 0 ? { ...memory, limitMs: floorMs } : memory;
  }
  if (memory.newestAt === null) return { newestAt, gaps: [], sortedGaps: [], limitMs: floorMs, resumedAt: newestAt };
  const gap = newestAt - memory.newestAt;
  // Kept sorted as they come and go: a sort per event would be the evaluator's biggest cost.
  const gaps = [...memory.gaps, gap];
  const sortedGaps = [...memory.sortedGaps];
  sortedGaps.splice(lowerBound(sortedGaps, gap), 0, gap);
  while (gaps.length > config.gapsKept) sortedGaps.splice(lowerBound(sortedGaps, gaps.shift() as number), 1);
  const rank = Math.max(1, Math.ceil((config.gapPercentile / 100) * sortedGaps.length));
  const resumedAt = gap > memory.limitMs ? newestAt : memory.resumedAt;
  const limitMs = Math.max(floorMs, config.gapMultiple * (sortedGaps[rank - 1] as number));
  return { newestAt, gaps, sortedGaps, limitMs, resumedAt };
}

function ageFigures(memory: FeedMemory, now: number): Figures {
  return {
    feedAgeSec: memory.newestAt === null ? null : round((now - memory.newestAt) / 1000, 1),
    limitSec: round(memory.limitMs / 1000, 1),
  };
}

/** The feed's data is older than its limit: what every other rule of its lanes holds still for. */
export function isStale(memory: FeedMemory, now: number): boolean {
  return memory.newestAt !== null && now - memory.newestAt > memory.limitMs;
}

export interface SourceStaleRule extends RuleWording {
  rule: 'feed.stale';
  initial(): FeedMemory;
  timing(config: AlertConfig): Timing;
  evaluate(memory: FeedMemory, sample: SourceSample, now: number, config: AlertConfig): RuleResult<FeedMemory>;
}

export const sourceStale: SourceStaleRule = {
  rule: 'feed.stale',
  ...wording,
  initial,
  timing: (config) => secondsTiming(config['feed.stale']),
  evaluate(memory, sample, now, config) {
    const next = observe(memory, sample.newestEventAt, config['feed.stale']);
    const verdict = next.newestAt === null ? 'unknown' : isStale(next, now) ? 'breach' : 'clear';
    return { memory: next, verdict, figures: ageFigures(next, now), evidence: next.newestAt };
  },
};

export const laneStale: LaneRule<FeedMemory> = {
  rule: 'feed.stale',
  ...wording,
  initial,
  timing: (config) => secondsTiming(config['feed.stale']),
  evaluate(memory, { sample, now, config, source }) {
    const next = observe(memory, sample.newestEventAt, config['feed.stale']);
    const figures = ageFigures(next, now);
    if (next.newestAt === null) return { memory: next, verdict: 'unknown', figures, evidence: null };
    if (!isStale(next, now)) return { memory: next, verdict: 'clear', figures, evidence: next.newestAt };
    const speakingSince = Math.max(next.newestAt, source?.resumedAt ?? -Infinity);
    const sourceAlive = source?.newestAt != null && source.newestAt > speakingSince + next.limitMs;
    return { memory: next, verdict: sourceAlive ? 'breach' : 'between', figures, evidence: next.newestAt };
  },
};

/**
 * Publishes how each of the collector's sources is doing to Redis (the hash of
 * storage/source-status.ts), so the server can show it to admins: the collector's own HTTP port
 * listens on loopback, out of their reach. The figures are read from the pipeline's own counters
 * and dead letters when publishing; nothing is counted twice on the hot path.
 */
import os from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { SourceConfig } from '../config';
import { sourceStatusKey, type SourceStatus } from '../storage/source-status';
import type { DeadLetter, Pipeline, SourceCounters } from './pipeline';

/** Per source: its newest dead letters and its commonest rejection reasons. */
const DEAD_LETTERS_SHOWN = 10;
const REJECTIONS_SHOWN = 5;
/** Longest reason or excerpt published: what a feed sends must not bloat the hash. */
const MAX_TEXT = 200;

export interface SourceStatusOptions {
  /** The stream's name, which prefixes the hash's key. */
  stream: string;
  sources: readonly Pick<SourceConfig, 'name' | 'type'>[];
  everyMs: number;
  log: Logger;
}

export interface SourceStatusPublisher {
  /**
   * Called once, when the collector stops cleanly, after its sources have ended and before its
   * Redis connection closes: publishes the final figures once more, then no more.
   */
  stop(): Promise<void>;
}

/**
 * Publishes `sources` at once and then every `everyMs`, one HSET each time. A Redis failure is
 * logged and the next period tries again; it never throws, so it cannot stop the collector.
 */
export function publishSourceStatus(
  redis: Redis,
  pipeline: Pick<Pipeline, 'stats' | 'deadLetters'>,
  options: SourceStatusOptions,
): SourceStatusPublisher {
  const key = sourceStatusKey(options.stream);
  const collector = { host: os.hostname(), pid: process.pid };
  let failing = false;

  const publish = async () => {
    const statuses = sourceStatuses(options.sources, pipeline.stats().sources, pipeline.deadLetters(), {
      collector,
      publishedAt: Date.now(),
      publishEveryMs: options.everyMs,
    });
    // Only ad hoc feeds (a replay, a test's): nothing configured to show.
    if (statuses.length === 0) return;
    try {
      await redis.hset(key, Object.fromEntries(statuses.map((status) => [status.name, JSON.stringify(status)])));
      if (failing) options.log.info('publishing the sources’ status works again');
      failing = false;
    } catch (error) {
      // Once per outage: the connection logs its own loss, and every period would repeat this.
      if (!failing) options.log.warn({ err: error }, 'publishing the sources’ status failed; will try again');
      failing = true;
    }
  };

  let publishing: Promise<void> | undefined;
  // A publish that outlasts its period (Redis slow) is not stacked on.
  const tick = () => void (publishing ??= publish().finally(() => (publishing = undefined)));
  tick();
  const timer = setInterval(tick, options.everyMs);
  timer.unref();

  return {
    async stop() {
      clearInterval(timer);
      await publishing;
      await publish();
    },
  };
}

/** Each source's status from the pipeline's figures; a source that has sent nothing yet shows zeros. */
export function sourceStatuses(
  sources: readonly Pick<SourceConfig, 'name' | 'type'>[],
  counters: Readonly<Record<string, SourceCounters>>,
  deadLetters: readonly DeadLetter[],
  published: Pick<SourceStatus, 'collector' | 'publishedAt' | 'publishEveryMs'>,
): SourceStatus[] {
  return sources.map(({ name, type }) => {
    const c = counters[name];
    return {
      name,
      kind: type,
      collector: published.collector,
      counters: {
        received: c?.received ?? 0,
        accepted: c?.accepted ?? 0,
        duplicates: c?.duplicates ?? 0,
        gaps: c?.gaps ?? 0,
        rejected: c?.rejected ?? 0,
      },
      topRejections: Object.entries(c?.rejectedBy ?? {})
        .sort(([a, m], [b, n]) => n - m || a.localeCompare(b))
        .slice(0, REJECTIONS_SHOWN)
        .map(([reason, count]) => ({ reason: clip(reason), count })),
      lastMessageAt: c?.lastMessageAt ?? null,
      lastAcceptedAt: c?.lastAcceptedAt ?? null,
      deadLetters: newestOf(deadLetters, name),
      publishedAt: published.publishedAt,
      publishEveryMs: published.publishEveryMs,
    };
  });
}

function newestOf(deadLetters: readonly DeadLetter[], source: string): SourceStatus['deadLetters'] {
  const newest: SourceStatus['deadLetters'] = [];
  for (let i = deadLetters.length - 1; i >= 0 && newest.length < DEAD_LETTERS_SHOWN; i--) {
    const letter = deadLetters[i] as DeadLetter;
    if (letter.source === source)
      newest.push({ at: letter.at, reason: clip(letter.reason), excerpt: clip(letter.excerpt) });
  }
  return newest;
}

function clip(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;
}

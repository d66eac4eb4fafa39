import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Logger } from 'pino';
import { SeenEvents, laneOf, parseEvent, type LaneEvent } from './events';
import { contractEvents, type Normalizer } from './normalize';
import { SinkWriter, type SinkCounters } from './sink-writer';
import type { Sink } from './sinks/sink';
import type { Source } from './sources/source';
import { Spool, type Batch } from './spool';

export interface PipelineOptions {
  /** Events per sink write. */
  batchSize: number;
  /** A partial batch is written after this long, so a quiet feed is still live. */
  flushIntervalMs: number;
  /** Events a sink may have waiting in memory before sources are paused and webhooks told to retry. */
  maxQueuedEvents: number;
  /** (source, id) pairs remembered to drop resent events. */
  dedupWindow: number;
  deadLetterLimit: number;
  /** Each sink spools under `<dir>/<sink name>/` while its store is unreachable. */
  spool: { dir: string; maxBytes: number };
  /** Seconds one successful sink write took (for the write-latency histogram). */
  onWrite?: (sink: string, seconds: number) => void;
}

export const DEFAULT_PIPELINE_OPTIONS: Omit<PipelineOptions, 'spool'> = {
  // Only a feed catching up (a replay, a backlog after an outage) fills a batch; live ones flush
  // every 10 ms. InfluxDB spends a third less CPU a point on 5,000-line requests than on 1,000-line
  // ones (measured: 7.2 vs 10.7 µs), CPU the collector needs on a small machine.
  batchSize: 5000,
  flushIntervalMs: 10,
  // ≈ 15 MB, and 25 s of a busy site's 2,000 events/s while InfluxDB stalls.
  maxQueuedEvents: 50_000,
  dedupWindow: 200_000,
  deadLetterLimit: 1000,
};

/** How long a push source is asked to wait when the sinks are backed up. */
const RETRY_AFTER_MS = 5000;
/** Missing seqs remembered per feed and lane, so a late message fills its gap instead of counting as lost. */
const REORDER_WINDOW = 1000;
/** How long `close()` lets the stores take what is queued before it goes to the spool. */
const CLOSE_GRACE_MS = 5000;

export type OfferResult =
  | { status: 'accepted'; accepted: number; rejected: { index: number; reason: string }[] }
  | { status: 'busy'; retryAfterMs: number };

export interface DeadLetter {
  at: number;
  source: string;
  reason: string;
  /** The start of the rejected message, enough to find it in the feed's own logs. */
  excerpt: string;
}

export interface SourceCounters {
  received: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  /** Rejections by the field that was wrong, e.g. `attendance.online`. */
  rejectedBy: Record<string, number>;
  /** Messages lost according to `seq` jumps. */
  gaps: number;
  /** When (ms since the epoch) the newest message came, good or bad. */
  lastMessageAt: number;
  /** When the newest message came that gave an accepted event; undefined until one does. */
  lastAcceptedAt: number | undefined;
}

export type { SinkCounters };

/**
 * One pipeline for every source: normalize → validate → drop repeats → batch → every sink. A bad
 * message is rejected with its reason, counted and dead-lettered; it never stops the feed or its
 * neighbours. Each sink has its own writer and disk spool, so one store being down neither stops
 * the other nor loses what it was given.
 */
export class Pipeline {
  private readonly sources = new Map<string, SourceCounters>();
  private readonly seen: SeenEvents;
  private readonly seqs = new Map<string, { last: number; missing: Set<number> }>();
  private pending: LaneEvent[] = [];
  private flushTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly writers: readonly SinkWriter[],
    private readonly dead: DeadLetter[],
    private readonly log: Logger,
    private readonly options: PipelineOptions,
  ) {
    this.seen = new SeenEvents(options.dedupWindow);
  }

  /** Opens each sink's spool (writing back whatever an earlier run left in it) and starts. */
  static async create(
    sinks: readonly Sink[],
    log: Logger,
    options: Partial<PipelineOptions> & Pick<PipelineOptions, 'spool'>,
  ): Promise<Pipeline> {
    const settings: PipelineOptions = { ...DEFAULT_PIPELINE_OPTIONS, ...options };
    const dead: DeadLetter[] = [];
    const writers = await Promise.all(
      sinks.map(async (sink) => {
        const spool = await Spool.open(path.join(settings.spool.dir, sink.name), { maxBytes: settings.spool.maxBytes });
        if (!spool.isEmpty)
          log.info({ sink: sink.name, events: spool.pendingEvents }, 'spool from an earlier run found');
        return new SinkWriter(sink, spool, log, settings.maxQueuedEvents, {
          onWrite: (seconds) => settings.onWrite?.(sink.name, seconds),
          onRefused: (batch, reason) => pushBounded(dead, refusedLetter(sink, batch, reason), settings.deadLetterLimit),
        });
      }),
    );
    return new Pipeline(writers, dead, log, settings);
  }

  /**
   * Pulls `source` until it ends or `signal` aborts, then hands over what is pending. Reading
   * pauses while a sink's in-memory queue is full.
   */
  async run(source: Source, signal: AbortSignal, normalizer: Normalizer = contractEvents): Promise<void> {
    try {
      for await (const message of source.messages(signal)) {
        this.ingest(source.name, message, normalizer);
        if (this.pending.length >= this.options.batchSize) await this.flush();
        else this.scheduleFlush();
        if (signal.aborted) break;
      }
    } finally {
      await this.flush();
    }
  }

  /**
   * For push sources (the webhook): takes one request's messages. Resolves once the accepted ones
   * are written or safely spooled, with the index and reason of each rejected message; or at once
   * with `busy` when the sinks are backed up, so the caller can answer 503 + Retry-After.
   */
  async offer(
    sourceName: string,
    messages: readonly unknown[],
    normalizer: Normalizer = contractEvents,
  ): Promise<OfferResult> {
    if (this.writers.some((writer) => writer.isFull())) return { status: 'busy', retryAfterMs: RETRY_AFTER_MS };
    const rejected: { index: number; reason: string }[] = [];
    let accepted = 0;
    messages.forEach((message, index) => {
      const outcome = this.ingest(sourceName, message, normalizer);
      accepted += outcome.accepted;
      if (outcome.reason !== undefined) rejected.push({ index, reason: outcome.reason });
    });
    await this.flush(true);
    return { status: 'accepted', accepted, rejected };
  }

  /**
   * Hands the pending batch to every sink. Resolves when each has room again — or, with
   * `durable`, once each has written or spooled it.
   */
  async flush(durable = false): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const events = this.pending;
    this.pending = [];
    if (events.length > 0) {
      const batch: Batch = { id: randomUUID(), events };
      const written = this.writers.map((writer) => writer.enqueue(batch));
      if (durable) await Promise.all(written);
    }
    await Promise.all(this.writers.map((writer) => writer.hasRoom()));
    // A source whose messages are all ready (a replay, a feed catching up) would otherwise be read
    // in one unbroken chain of promises, and no write would start until it ended.
    await new Promise((resolve) => setImmediate(resolve));
  }

  /** Resolves once everything accepted so far is written to every store (spools included). */
  async drain(): Promise<void> {
    await this.flush();
    await Promise.all(this.writers.map((writer) => writer.idle()));
  }

  /**
   * Gives the stores a moment to take what is queued, puts the rest in the spools for the next
   * run, then closes the sinks.
   */
  async close(): Promise<void> {
    await this.flush();
    await Promise.race([this.drain(), new Promise((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref())]);
    await Promise.all(this.writers.map((writer) => writer.stop()));
    await Promise.all(this.writers.map((writer) => writer.sink.close()));
  }

  stats(): { sources: Record<string, SourceCounters>; sinks: Record<string, SinkCounters> } {
    return {
      sources: Object.fromEntries(this.sources),
      sinks: Object.fromEntries(this.writers.map((w) => [w.sink.name, w.stats()])),
    };
  }

  deadLetters(): readonly DeadLetter[] {
    return this.dead;
  }

  /** Validates one raw message and queues what it yields; returns what became of it. */
  private ingest(sourceName: string, message: unknown, normalizer: Normalizer): { accepted: number; reason?: string } {
    const now = Date.now();
    const counters = this.countersFor(sourceName, now);
    counters.received++;
    counters.lastMessageAt = now;
    const normalized = normalizer.normalize(message);
    if (!normalized.ok) {
      this.reject(sourceName, counters, normalized.reason, message);
      return { accepted: 0, reason: normalized.reason };
    }
    let accepted = 0;
    let firstReason: string | undefined;
    for (const candidate of normalized.events) {
      const parsed = parseEvent(candidate);
      if (!parsed.ok) {
        this.reject(sourceName, counters, parsed.reason, message);
        firstReason ??= parsed.reason;
        continue;
      }
      const event = parsed.event;
      if (this.seen.seenBefore(event)) {
        counters.duplicates++;
        continue;
      }
      if (event.seq !== undefined) this.trackSeq(sourceName, counters, event);
      counters.accepted++;
      counters.lastAcceptedAt = now;
      accepted++;
      this.pending.push(event);
    }
    return firstReason === undefined ? { accepted } : { accepted, reason: firstReason };
  }

  /**
   * Counts messages lost to `seq` jumps per feed and lane; a late arrival fills its gap. Keyed by
   * the pipeline source too, so each source's count only ever moves by its own messages.
   */
  private trackSeq(sourceName: string, counters: SourceCounters, event: LaneEvent): void {
    const key = `${sourceName}\u0000${event.source}\u0000${laneOf(event) ?? ''}`;
    const seq = event.seq as number;
    const state = this.seqs.get(key);
    if (!state) {
      this.seqs.set(key, { last: seq, missing: new Set() });
      return;
    }
    if (seq > state.last) {
      for (let missing = state.last + 1; missing < seq; missing++) {
        counters.gaps++;
        state.missing.add(missing);
        if (state.missing.size > REORDER_WINDOW) state.missing.delete(state.missing.values().next().value as number);
      }
      state.last = seq;
    } else if (state.missing.delete(seq)) counters.gaps--;
  }

  private scheduleFlush(): void {
    this.flushTimer ??= setTimeout(() => void this.flush(), this.options.flushIntervalMs);
  }

  private reject(source: string, counters: SourceCounters, reason: string, message: unknown): void {
    counters.rejected++;
    const field = reason.split(':', 1)[0] ?? reason;
    const firstOfItsKind = counters.rejectedBy[field] === undefined;
    counters.rejectedBy[field] = (counters.rejectedBy[field] ?? 0) + 1;
    pushBounded(
      this.dead,
      { at: Date.now(), source, reason, excerpt: excerptOf(message) },
      this.options.deadLetterLimit,
    );
    // One warning per kind of fault keeps a broken feed from flooding the log; all are counted.
    if (firstOfItsKind) this.log.warn({ source, reason }, 'rejected a message (further ones like it: debug)');
    else this.log.debug({ source, reason }, 'rejected a message');
  }

  private countersFor(source: string, now: number): SourceCounters {
    let counters = this.sources.get(source);
    if (!counters) {
      counters = {
        received: 0,
        accepted: 0,
        duplicates: 0,
        rejected: 0,
        rejectedBy: {},
        gaps: 0,
        lastMessageAt: now,
        lastAcceptedAt: undefined,
      };
      this.sources.set(source, counters);
    }
    return counters;
  }
}

function refusedLetter(sink: Sink, batch: Batch, reason: string): DeadLetter {
  return {
    at: Date.now(),
    source: `sink:${sink.name}`,
    reason: `${batch.events.length} events refused: ${reason}`,
    excerpt: excerptOf(batch.events[0]),
  };
}

function pushBounded<T>(list: T[], item: T, limit: number): void {
  list.push(item);
  if (list.length > limit) list.shift();
}

function excerptOf(message: unknown): string {
  let text: string;
  try {
    text = typeof message === 'string' ? message : (JSON.stringify(message) ?? String(message));
  } catch {
    text = String(message);
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

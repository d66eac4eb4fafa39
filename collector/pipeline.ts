import type { Logger } from 'pino';
import { parseEvent, type LaneEvent } from './events';
import { contractEvents, type Normalizer } from './normalize';
import type { Sink } from './sinks/sink';
import type { Source } from './sources/source';

export interface PipelineOptions {
  /** Events per sink write. */
  batchSize: number;
  /** A partial batch is written after this long, so a quiet feed is still live. */
  flushIntervalMs: number;
  /** Batches a sink may have waiting before the sources are paused. */
  maxQueuedBatches: number;
  /** (source, id) pairs remembered to drop resent events. */
  dedupWindow: number;
  deadLetterLimit: number;
}

export const DEFAULT_PIPELINE_OPTIONS: PipelineOptions = {
  batchSize: 1000,
  flushIntervalMs: 50,
  maxQueuedBatches: 64,
  dedupWindow: 200_000,
  deadLetterLimit: 1000,
};

/** How long a push source is asked to wait when the sinks are backed up. */
const RETRY_AFTER_MS = 5000;

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
}

export interface SinkCounters {
  written: number;
  /** Events the destination refused for their content; not retried. */
  dropped: number;
  failures: number;
  queuedBatches: number;
}

/**
 * One pipeline for every source: validate → drop repeats → batch → every sink. A bad message is
 * rejected with its reason, counted and dead-lettered; it never stops the feed or its neighbours.
 * A sink that is down is retried with backoff while the others go on; when its queue is full the
 * sources are paused rather than memory growing.
 */
export class Pipeline {
  private readonly writers: SinkWriter[];
  private readonly sources = new Map<string, SourceCounters>();
  private readonly seen = new Map<string, true>();
  private readonly dead: DeadLetter[] = [];
  private pending: LaneEvent[] = [];
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    sinks: readonly Sink[],
    private readonly log: Logger,
    private readonly options: PipelineOptions = DEFAULT_PIPELINE_OPTIONS,
  ) {
    this.writers = sinks.map((sink) => new SinkWriter(sink, log, options.maxQueuedBatches));
  }

  /**
   * Pulls `source` until it ends or `signal` aborts, then writes what is pending. Reading pauses
   * while the sinks are backed up.
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
   * are written (or safely spooled), with the index and reason of each rejected message; or at
   * once with `busy` when the sinks are backed up, so the caller can answer 503 + Retry-After.
   */
  async offer(sourceName: string, messages: readonly unknown[], normalizer: Normalizer = contractEvents): Promise<OfferResult> {
    if (this.writers.some((writer) => writer.isFull())) return { status: 'busy', retryAfterMs: RETRY_AFTER_MS };
    const rejected: { index: number; reason: string }[] = [];
    let accepted = 0;
    messages.forEach((message, index) => {
      const outcome = this.ingest(sourceName, message, normalizer);
      accepted += outcome.accepted;
      if (outcome.reason !== undefined) rejected.push({ index, reason: outcome.reason });
    });
    await this.drain();
    return { status: 'accepted', accepted, rejected };
  }

  /** Validates one raw message and queues what it yields; returns what became of it. */
  private ingest(sourceName: string, message: unknown, normalizer: Normalizer): { accepted: number; reason?: string } {
    const counters = this.countersFor(sourceName);
    counters.received++;
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
      const key = `${parsed.event.source}\u0000${parsed.event.id}`;
      if (this.seen.has(key)) {
        counters.duplicates++;
        continue;
      }
      this.remember(key);
      counters.accepted++;
      accepted++;
      this.pending.push(parsed.event);
    }
    return firstReason === undefined ? { accepted } : { accepted, reason: firstReason };
  }

  private scheduleFlush(): void {
    this.flushTimer ??= setTimeout(() => void this.flush(), this.options.flushIntervalMs);
  }

  /** Hands the pending batch to every sink; resolves once every sink has room again. */
  async flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length > 0) for (const writer of this.writers) writer.enqueue(batch);
    await Promise.all(this.writers.map((writer) => writer.hasRoom()));
  }

  /** Resolves once every queued batch is written (or refused). */
  async drain(): Promise<void> {
    await this.flush();
    await Promise.all(this.writers.map((writer) => writer.idle()));
  }

  /** Drains, then closes the sinks. */
  async close(): Promise<void> {
    await this.drain();
    await Promise.all(this.writers.map((writer) => writer.sink.close()));
  }

  stats(): { sources: Record<string, SourceCounters>; sinks: Record<string, SinkCounters> } {
    return {
      sources: Object.fromEntries(this.sources),
      sinks: Object.fromEntries(this.writers.map((w) => [w.sink.name, w.counters()])),
    };
  }

  deadLetters(): readonly DeadLetter[] {
    return this.dead;
  }

  private reject(source: string, counters: SourceCounters, reason: string, message: unknown): void {
    counters.rejected++;
    const field = reason.split(':', 1)[0] ?? reason;
    const firstOfItsKind = counters.rejectedBy[field] === undefined;
    counters.rejectedBy[field] = (counters.rejectedBy[field] ?? 0) + 1;
    this.dead.push({ at: Date.now(), source, reason, excerpt: excerptOf(message) });
    if (this.dead.length > this.options.deadLetterLimit) this.dead.shift();
    // One warning per kind of fault keeps a broken feed from flooding the log; all are counted.
    if (firstOfItsKind) this.log.warn({ source, reason }, 'rejected a message (further ones like it: debug)');
    else this.log.debug({ source, reason }, 'rejected a message');
  }

  private remember(key: string): void {
    this.seen.set(key, true);
    if (this.seen.size > this.options.dedupWindow) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }

  private countersFor(source: string): SourceCounters {
    let counters = this.sources.get(source);
    if (!counters) {
      counters = { received: 0, accepted: 0, duplicates: 0, rejected: 0, rejectedBy: {} };
      this.sources.set(source, counters);
    }
    return counters;
  }
}

const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 5000;

/** Writes one sink's batches in order, retrying a failed batch with backoff until it lands. */
class SinkWriter {
  private readonly queue: (readonly LaneEvent[])[] = [];
  private draining: Promise<void> | undefined;
  private waitingForRoom: (() => void)[] = [];
  private written = 0;
  private dropped = 0;
  private failures = 0;

  constructor(
    readonly sink: Sink,
    private readonly log: Logger,
    private readonly maxQueued: number,
  ) {}

  enqueue(batch: readonly LaneEvent[]): void {
    this.queue.push(batch);
    this.draining ??= this.drainQueue().finally(() => (this.draining = undefined));
  }

  isFull(): boolean {
    return this.queue.length >= this.maxQueued;
  }

  hasRoom(): Promise<void> {
    if (this.queue.length < this.maxQueued) return Promise.resolve();
    return new Promise((resolve) => this.waitingForRoom.push(resolve));
  }

  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  counters(): SinkCounters {
    return { written: this.written, dropped: this.dropped, failures: this.failures, queuedBatches: this.queue.length };
  }

  private async drainQueue(): Promise<void> {
    for (let batch = this.queue[0]; batch !== undefined; batch = this.queue[0]) {
      await this.writeWithRetry(batch);
      this.queue.shift();
      if (this.queue.length < this.maxQueued) {
        for (const resolve of this.waitingForRoom.splice(0)) resolve();
      }
    }
  }

  private async writeWithRetry(batch: readonly LaneEvent[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.sink.write(batch);
        this.written += batch.length;
        return;
      } catch (error) {
        this.failures++;
        if (isRefused(error)) {
          this.dropped += batch.length;
          this.log.error({ sink: this.sink.name, err: error, events: batch.length }, 'sink refused a batch; dropped');
          return;
        }
        const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** attempt);
        this.log.warn({ sink: this.sink.name, err: error, retryInMs: delay }, 'sink write failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
}

function isRefused(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'retryable' in error && error.retryable === false;
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

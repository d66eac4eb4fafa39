/**
 * Writes derived lane figures to InfluxDB as history: measurement `lane_metrics`, tags auction,
 * lane and sale, one field per figure, one point per lane and event-time second.
 *
 * History can always be recomputed from the raw events, so it never gets in the way of the live
 * path: `record` only queues, writes happen in the background in batches, and while InfluxDB is
 * away the queue is bounded — past the bound the oldest points are dropped and counted.
 */
import { escape } from '@influxdata/influxdb-client';
import type { Logger } from 'pino';
import { WriteRejectedError, type InfluxStore } from '../../storage/influxdb';

export const HISTORY_MEASUREMENT = 'lane_metrics';

export interface HistoryPoint {
  auction: string;
  sale: string;
  lane: string;
  /** Event time in ms; stored floored to its second. */
  ts: number;
  /** `null` (or a non-finite number) = no value at this moment: the field is left out. */
  figures: Readonly<Record<string, number | null>>;
}

export interface HistoryRecorderOptions {
  /** How often queued points are written. */
  flushIntervalMs: number;
  /** Most points per write request. */
  batchSize: number;
  /** Most points held while InfluxDB is unreachable; beyond it the oldest are dropped. */
  maxPending: number;
  /** Wait before the first retry after a failed write; it doubles per failure up to `maxRetryDelayMs`. */
  retryDelayMs: number;
  maxRetryDelayMs: number;
}

const DEFAULT_RECORDER_OPTIONS: HistoryRecorderOptions = {
  flushIntervalMs: 1000,
  batchSize: 5000,
  // 48 lanes for ~35 minutes of outage.
  maxPending: 100_000,
  retryDelayMs: 1000,
  maxRetryDelayMs: 30_000,
};

export interface RecorderStats {
  /** Points InfluxDB acknowledged. */
  written: number;
  /** Points given up on: beyond `maxPending`, refused by InfluxDB, or unwritable at `close()`. */
  dropped: number;
  /** Points queued or being written. */
  pending: number;
}

export class HistoryRecorder {
  private readonly options: HistoryRecorderOptions;
  /** Line protocol by lane-second, oldest first; a newer point of the same lane-second replaces it in place. */
  private queue = new Map<string, string>();
  private inFlight: [string, string][] = [];
  private written = 0;
  private dropped = 0;
  private failures = 0;
  private nextAttemptAt = 0;
  private draining: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;

  /**
   * `store` returns undefined while InfluxDB is not connected (the server connects it in the
   * background); points then wait in the queue as during an outage.
   */
  constructor(
    private readonly store: () => InfluxStore | undefined,
    private readonly log: Logger,
    options: Partial<HistoryRecorderOptions> = {},
  ) {
    this.options = { ...DEFAULT_RECORDER_OPTIONS, ...options };
    this.timer = setInterval(() => this.drainInBackground(), this.options.flushIntervalMs);
    this.timer.unref();
  }

  /**
   * Queues points; called by the live path about once a second with one point per lane. Never
   * throws and never waits on InfluxDB.
   */
  record(points: readonly HistoryPoint[]): void {
    for (const point of points) {
      const second = Math.floor(point.ts / 1000) * 1000;
      const line = toLine(point, second);
      if (line !== undefined) this.queue.set(`${point.sale}\u0000${point.lane}\u0000${second}`, line);
    }
    this.dropBeyondBound();
    if (this.queue.size >= this.options.batchSize) this.drainInBackground();
  }

  stats(): RecorderStats {
    return { written: this.written, dropped: this.dropped, pending: this.queue.size + this.inFlight.length };
  }

  /** Stops the timer and writes what is queued, once; what InfluxDB does not take then is dropped. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.draining;
    this.nextAttemptAt = 0;
    await this.drain();
    if (this.queue.size > 0) {
      this.log.warn({ dropped: this.queue.size }, 'history points not written before shutdown');
      this.dropped += this.queue.size;
      this.queue.clear();
    }
  }

  private drainInBackground(): void {
    if (this.draining || Date.now() < this.nextAttemptAt || this.queue.size === 0) return;
    this.draining = this.drain().finally(() => (this.draining = undefined));
  }

  /** Writes batch after batch until the queue is empty or a write fails. Never rejects. */
  private async drain(): Promise<void> {
    while (this.queue.size > 0) {
      const store = this.store();
      if (!store) return this.failed(undefined, 'InfluxDB is not connected');
      this.inFlight = takeFirst(this.queue, this.options.batchSize);
      try {
        await store.writeLines(this.inFlight.map(([, line]) => line));
        this.written += this.inFlight.length;
        if (this.failures > 0) this.log.info({ dropped: this.dropped }, 'history writes resumed');
        this.failures = 0;
      } catch (error) {
        if (error instanceof WriteRejectedError) {
          // Its content is the problem, so a retry would fail the same way.
          const refused = error.refusedEvents ?? this.inFlight.length;
          this.written += this.inFlight.length - refused;
          this.dropped += refused;
          this.log.error({ err: error, dropped: refused }, 'InfluxDB refused history points');
        } else {
          this.requeueInFlight();
          return this.failed(error, 'history write failed');
        }
      } finally {
        this.inFlight = [];
      }
    }
  }

  private failed(error: unknown, message: string): void {
    this.failures++;
    const delay = Math.min(this.options.maxRetryDelayMs, this.options.retryDelayMs * 2 ** (this.failures - 1));
    this.nextAttemptAt = Date.now() + delay;
    this.log.warn({ err: error, pending: this.stats().pending, dropped: this.dropped, retryInMs: delay }, message);
  }

  /** Puts a failed batch back at the head of the queue, unless a newer point of the same lane-second came in. */
  private requeueInFlight(): void {
    const queue = new Map(this.inFlight.filter(([key]) => !this.queue.has(key)));
    for (const [key, line] of this.queue) queue.set(key, line);
    this.queue = queue;
    this.inFlight = [];
    this.dropBeyondBound();
  }

  /** Points being written are left alone: their write may yet succeed. A failed batch is requeued, and bound, again. */
  private dropBeyondBound(): void {
    const excess = this.queue.size - this.options.maxPending;
    if (excess > 0) this.dropped += takeFirst(this.queue, excess).length;
  }
}

/** Removes and returns the `count` oldest entries. */
function takeFirst(queue: Map<string, string>, count: number): [string, string][] {
  const taken: [string, string][] = [];
  for (const entry of queue) {
    if (taken.length === count) break;
    taken.push(entry);
    queue.delete(entry[0]);
  }
  return taken;
}

/** Figures are always written as floats, so a figure that happens to be whole never conflicts in type. */
function toLine(point: HistoryPoint, second: number): string | undefined {
  const fields: string[] = [];
  for (const [name, value] of Object.entries(point.figures)) {
    if (value !== null && Number.isFinite(value)) fields.push(`${escape.tag(name)}=${value}`);
  }
  if (fields.length === 0) return undefined;
  const tags = `auction=${escape.tag(point.auction)},lane=${escape.tag(point.lane)},sale=${escape.tag(point.sale)}`;
  return `${HISTORY_MEASUREMENT},${tags} ${fields.join(',')} ${second}000000`;
}

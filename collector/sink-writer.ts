import type { Logger } from 'pino';
import type { Sink } from './sinks/sink';
import type { Batch, Spool } from './spool';

export interface SinkCounters {
  written: number;
  /** Events the store refused for their content (4xx but 429): dead-lettered, never retried. */
  refused: number;
  /** Events pushed out of a full spool before their store came back. */
  spoolDropped: number;
  /** Events that went through the spool because the store did not answer. */
  spooled: number;
  spoolPendingEvents: number;
  spoolPendingBytes: number;
  failures: number;
  queuedBatches: number;
}

export interface WriterHooks {
  /** Seconds one successful write took. */
  onWrite(seconds: number): void;
  /** A batch the store refused for its content. */
  onRefused(batch: Batch, reason: string): void;
}

const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 5000;

interface Queued {
  batch: Batch;
  durable: () => void;
  state: 'waiting' | 'writing' | 'written' | 'failed';
}

/**
 * Writes one sink's batches. While the store answers, batches go straight to it from a small
 * in-memory queue, up to the sink's `concurrentWrites` at once. When a write fails in a way worth
 * retrying (network, 429, 5xx), the writes in flight are let finish, then every batch not yet
 * written goes to the sink's disk spool, in order, so nothing waits in memory; the spool is
 * written back in order, with backoff, until it is empty and batches go direct again. One loop
 * does all of it, so order and state changes need no locks.
 */
export class SinkWriter {
  private memory: Queued[] = [];
  private readonly writing = new Set<Promise<void>>();
  private running: Promise<void> | undefined;
  private spooling: boolean;
  private failed = false;
  private stopped = false;
  private retryAt = 0;
  private attempt = 0;
  private wake: (() => void) | undefined;
  private waitingForRoom: (() => void)[] = [];
  private readonly counters = { written: 0, refused: 0, spooled: 0, failures: 0 };
  /** Events in `memory`: the bound is in events, as batches range from one event to thousands. */
  private queuedEvents = 0;

  constructor(
    readonly sink: Sink,
    private readonly spool: Spool,
    private readonly log: Logger,
    /** Events this writer may hold in memory before `isFull`. */
    private readonly maxQueued: number,
    private readonly hooks: WriterHooks,
  ) {
    // A spool left by an earlier run is written first.
    this.spooling = !spool.isEmpty;
    if (this.spooling) this.kick();
  }

  /** Resolves once the batch is written or safely on disk. */
  enqueue(batch: Batch): Promise<void> {
    return new Promise((durable) => {
      this.memory.push({ batch, durable, state: 'waiting' });
      this.queuedEvents += batch.events.length;
      this.kick();
    });
  }

  isFull(): boolean {
    return this.queuedEvents >= this.maxQueued;
  }

  /** Resolves when the in-memory queue has room again. */
  hasRoom(): Promise<void> {
    if (!this.isFull()) return Promise.resolve();
    return new Promise((resolve) => this.waitingForRoom.push(resolve));
  }

  /** Resolves once everything queued or spooled is written. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Stops writing: what is still in memory goes to the spool for the next run. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.idle();
    await this.spoolMemory();
  }

  stats(): SinkCounters {
    return {
      ...this.counters,
      spoolDropped: this.spool.droppedEvents,
      spoolPendingEvents: this.spool.pendingEvents,
      spoolPendingBytes: this.spool.pendingBytes,
      queuedBatches: this.memory.length,
    };
  }

  private kick(): void {
    this.wake?.();
    if (this.stopped) return;
    this.running ??= this.loop().finally(() => (this.running = undefined));
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      if (this.spooling) {
        await this.spoolMemory();
        if (Date.now() < this.retryAt) {
          await this.sleepUntil(this.retryAt);
          continue;
        }
        const batch = await this.spool.peek();
        if (!batch) {
          this.spooling = false;
          this.log.info({ sink: this.sink.name }, 'spool written out; writing directly again');
          continue;
        }
        if (await this.tryWrite(batch)) await this.spool.ack();
        continue;
      }
      const next = this.failed ? undefined : this.memory.find((queued) => queued.state === 'waiting');
      if (next && this.writing.size < this.sink.concurrentWrites) {
        this.startWrite(next);
        continue;
      }
      if (this.writing.size > 0) {
        await this.nextSettledOrArrival();
        continue;
      }
      if (this.failed) {
        this.failed = false;
        this.spooling = true;
        this.log.warn({ sink: this.sink.name }, 'store unreachable; spooling to disk');
        continue;
      }
      return;
    }
    // Stopping: let the writes in flight finish, so what goes to the spool is exactly the rest.
    await Promise.all(this.writing);
  }

  private startWrite(queued: Queued): void {
    queued.state = 'writing';
    const write = this.tryWrite(queued.batch).then((done) => {
      this.writing.delete(write);
      if (!done) {
        queued.state = 'failed';
        this.failed = true;
        return;
      }
      queued.state = 'written';
      this.memory = this.memory.filter((m) => m !== queued);
      this.queuedEvents -= queued.batch.events.length;
      queued.durable();
      this.notifyRoom();
    });
    this.writing.add(write);
  }

  /** Waits for a write in flight to settle, or for a new batch that could use a free slot. */
  private nextSettledOrArrival(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      void Promise.race(this.writing).then(resolve);
    }).finally(() => (this.wake = undefined));
  }

  /** True when the batch is done with (written, or refused and dead-lettered). */
  private async tryWrite(batch: Batch): Promise<boolean> {
    const started = performance.now();
    try {
      await this.sink.write(batch);
      this.hooks.onWrite((performance.now() - started) / 1000);
      this.counters.written += batch.events.length;
      this.attempt = 0;
      return true;
    } catch (error) {
      this.counters.failures++;
      if (isRefused(error)) {
        const refused = refusedCount(error) ?? batch.events.length;
        this.counters.refused += refused;
        this.counters.written += batch.events.length - refused;
        this.hooks.onRefused(batch, String((error as Error).message));
        this.log.error({ sink: this.sink.name, err: error, events: batch.events.length }, 'store refused a batch');
        return true;
      }
      const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** this.attempt++);
      this.retryAt = Date.now() + delay;
      this.log.warn({ sink: this.sink.name, err: error, retryInMs: delay }, 'write failed; will retry');
      return false;
    }
  }

  /** Moves every batch not yet written to the spool, in order. Never called with writes in flight. */
  private async spoolMemory(): Promise<void> {
    if (this.memory.length === 0) return;
    const moving = this.memory;
    this.memory = [];
    this.queuedEvents = 0;
    const events = moving.reduce((sum, m) => sum + m.batch.events.length, 0);
    const dropped = await this.spool.append(moving.map((m) => m.batch));
    this.counters.spooled += events;
    if (dropped > 0) this.log.error({ sink: this.sink.name, events: dropped }, 'spool full: dropped its oldest events');
    for (const m of moving) m.durable();
    this.notifyRoom();
  }

  /** Waits for the backoff, cut short when a batch arrives (it must reach the disk now) or on stop. */
  private sleepUntil(deadline: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.max(0, deadline - Date.now()));
      this.wake = done;
      function done() {
        clearTimeout(timer);
        resolve();
      }
    }).finally(() => (this.wake = undefined));
  }

  private notifyRoom(): void {
    if (this.isFull()) return;
    for (const resolve of this.waitingForRoom.splice(0)) resolve();
  }
}

function isRefused(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'retryable' in error && error.retryable === false;
}

function refusedCount(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('refusedEvents' in error)) return undefined;
  return typeof error.refusedEvents === 'number' ? error.refusedEvents : undefined;
}

import type { Batch } from '../spool';

/** A Sink stores batches of valid contract events somewhere (InfluxDB history, the Redis live bus). */
export interface Sink {
  /** Used in logs and counters, e.g. `influxdb`. */
  readonly name: string;
  /**
   * How many batches may be written at once. 1 for a store where order matters (the live bus);
   * more for one that orders by timestamp itself, where overlapping requests keep it busy.
   */
  readonly concurrentWrites: number;
  /**
   * Writes one batch, its events in order. Called with at most `concurrentWrites` batches in
   * flight. Resolves once the store acknowledged the batch. Rejects with an
   * error whose `retryable` is false (and optional `refusedEvents` count) when the store refused
   * the content: that batch is dead-lettered. Any other rejection is retried later with the same
   * batch — also after a restart, from the spool — so writing a batch twice must change nothing.
   */
  write(batch: Batch): Promise<void>;
  /** Releases connections. Called once, after the last write settled. */
  close(): Promise<void>;
}

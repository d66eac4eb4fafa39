import type { LaneEvent } from '../events';

/** A Sink stores batches of valid contract events somewhere (InfluxDB history, the Redis live bus). */
export interface Sink {
  /** Used in logs and counters, e.g. `influxdb`. */
  readonly name: string;
  /**
   * Writes one batch, in order. The pipeline calls it with one batch at a time per sink and only
   * after the previous call settled. Resolves once the destination has acknowledged the batch;
   * rejects when it did not, and the pipeline retries the same batch, so a write must be
   * idempotent in effect (InfluxDB: same event → same point; the server drops repeated ids).
   */
  write(batch: readonly LaneEvent[]): Promise<void>;
  /** Releases connections. Called once, after the last write settled. */
  close(): Promise<void>;
}

/**
 * A Source yields raw messages from one feed (a simulcast platform connection, a recording, the
 * simulator). It knows nothing of validation, batching or storage: the pipeline owns those.
 */
export interface Source {
  /** Stable name used in logs, counters and the dead-letter list, e.g. `sim` or `edge-ws-1`. */
  readonly name: string;
  /**
   * Yields raw messages in arrival order until the feed ends or `signal` aborts. Called once, by
   * the pipeline, which pulls at its own pace: a slow sink slows the source instead of growing a
   * queue. Must not throw for one bad message — yield it as it is and the pipeline rejects it with
   * a reason; throw only when the feed itself is lost.
   */
  messages(signal: AbortSignal): AsyncIterable<unknown>;
}

/**
 * Coalesces messages per animation frame: whatever arrives between two frames is handed over at
 * once, so the screen updates (and each chart redraws) once a frame at most, however the messages
 * trickle in. A page the browser does not paint (a hidden tab) gets no frames; there the queue is
 * drained by a timer instead, so it never grows without bound.
 */
const HIDDEN_DRAIN_MS = 1000;

export class FrameQueue<T> {
  #items: T[] = [];
  #frame: number | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly apply: (items: T[]) => void) {}

  push(item: T): void {
    this.#items.push(item);
    if (this.#frame !== null) return;
    this.#frame = requestAnimationFrame(() => this.flush());
    this.#timer = setTimeout(() => this.flush(), HIDDEN_DRAIN_MS);
  }

  /** Applies what is queued now. */
  flush(): void {
    if (this.#frame !== null) cancelAnimationFrame(this.#frame);
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#frame = this.#timer = null;
    const items = this.#items;
    this.#items = [];
    if (items.length > 0) this.apply(items);
  }

  /** Drops what is queued (a reconnect starts over). */
  clear(): void {
    this.#items = [];
  }
}

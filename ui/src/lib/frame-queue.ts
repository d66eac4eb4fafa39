/**
 * Paces the screen. What arrives is applied in an animation frame, one every `intervalMs` at most.
 * Every screen update has a fixed price on top of what it changes — style, layout, paint, and
 * handing each chart's canvas to the compositor, about 3 ms with 48 lanes on a PC without a GPU —
 * so a few fuller updates cost the wall less than many small ones. How full: each update's cost is
 * measured, from its frame callback to the end of its rendering; one over `frameBudgetMs` cuts the
 * next in proportion, and a full one well under it lets the next take one item more. A slower or
 * busier machine gets smaller updates, more of them, and no burst (the first picture, a server that
 * stalled) becomes one long frame: full updates' worth of backlog go frame after frame, without
 * waiting. A page the browser does not paint (a hidden tab) gets no frames; there a timer drains
 * the queue instead, so it never grows without bound.
 */
const HIDDEN_DRAIN_MS = 1000;
/** An update under this share of the budget lets the next grow. */
const GROW_BELOW = 0.8;

/** The User Timing mark the wall leaves at each screen update, with the lane changes it applied. */
export const SCREEN_UPDATE_MARK = 'lanewatch:screen-update';

export interface FramePace {
  /** The least time from one screen update to the next, ms. */
  intervalMs: number;
  /** The time one screen update should take, ms. */
  frameBudgetMs: number;
  /** The most items one screen update applies, however cheap they look. */
  maxPerFrame: number;
}

export class FrameQueue<T> {
  #items: T[] = [];
  #wait: ReturnType<typeof setTimeout> | null = null;
  #frame: number | null = null;
  #hidden: ReturnType<typeof setTimeout> | null = null;
  #lastAt = -Infinity;
  /** The most items the next screen update applies. */
  #perFrame: number;
  /** Delivered after the frame's rendering: the end of the frame's cost. */
  readonly #rendered = new MessageChannel();
  #measuring: { start: number; items: number } | null = null;

  constructor(
    private readonly apply: (items: T[]) => void,
    private readonly pace: FramePace,
  ) {
    this.#perFrame = pace.maxPerFrame;
    this.#rendered.port1.onmessage = () => this.#measured();
  }

  push(item: T): void {
    this.#items.push(item);
    this.#schedule(Math.max(0, this.#lastAt + this.pace.intervalMs - performance.now()));
  }

  /** Applies everything queued now, whatever the pace. */
  flush(): void {
    this.#cancel();
    this.#take(this.#items.length);
  }

  /** Drops what is queued (a reconnect starts over). */
  clear(): void {
    this.#cancel();
    this.#items = [];
  }

  #schedule(waitMs: number): void {
    if (this.#wait !== null || this.#frame !== null) return;
    const request = () => {
      this.#wait = null;
      this.#frame = requestAnimationFrame(() => this.#update(true));
      this.#hidden = setTimeout(() => this.#update(false), HIDDEN_DRAIN_MS);
    };
    if (waitMs > 0) this.#wait = setTimeout(request, waitMs);
    else request();
  }

  /**
   * `painted`: in an animation frame. Otherwise the browser does not paint the page, so nothing is
   * rendered and everything queued goes at once.
   */
  #update(painted: boolean): void {
    this.#cancel();
    this.#lastAt = performance.now();
    const items = this.#take(painted ? this.#perFrame : this.#items.length);
    if (painted && items > 0 && this.#measuring === null) {
      this.#measuring = { start: this.#lastAt, items };
      this.#rendered.port2.postMessage(null);
    }
    // A full update's worth waiting goes at once; less joins what comes in the next interval.
    if (this.#items.length >= this.#perFrame) this.#schedule(0);
    else if (this.#items.length > 0) this.#schedule(this.pace.intervalMs);
  }

  #measured(): void {
    if (this.#measuring === null) return;
    const { start, items } = this.#measuring;
    this.#measuring = null;
    const cost = performance.now() - start;
    const { frameBudgetMs, maxPerFrame } = this.pace;
    if (cost > frameBudgetMs) this.#perFrame = Math.max(1, Math.floor((items * frameBudgetMs) / cost));
    // Growing only well under the budget: an update that just fits does not flip-flop the next.
    else if (items === this.#perFrame && cost < GROW_BELOW * frameBudgetMs)
      this.#perFrame = Math.min(maxPerFrame, items + 1);
  }

  #take(count: number): number {
    const items = this.#items.splice(0, count);
    if (items.length > 0) this.apply(items);
    return items.length;
  }

  #cancel(): void {
    if (this.#wait !== null) clearTimeout(this.#wait);
    if (this.#frame !== null) cancelAnimationFrame(this.#frame);
    if (this.#hidden !== null) clearTimeout(this.#hidden);
    this.#wait = this.#frame = this.#hidden = null;
  }
}

/**
 * A sale's events held back until a watermark passes them, then released in `ts` order (equal
 * times in arrival order). Feeds deliver up to a few seconds out of order (EVENTS.md); holding
 * each event for the allowed lateness lets the engine apply them as they happened.
 */
import type { LaneEvent } from '../../collector/events';
import { COMPACT_AFTER } from './windows';

export class ReorderBuffer {
  private events: LaneEvent[] = [];
  private head = 0;
  /**
   * Every event at or before this time has been released. It only rises; an event older than it
   * arrives too late to be put in order.
   */
  watermark = -Infinity;

  /** Holds the event; false (and nothing held) if it is older than the watermark. */
  hold(event: LaneEvent): boolean {
    if (event.ts < this.watermark) return false;
    // In-order input appends; a late one walks back past the few newer events held.
    let i = this.events.length;
    while (i > this.head && (this.events[i - 1] as LaneEvent).ts > event.ts) i--;
    if (i === this.events.length) this.events.push(event);
    else this.events.splice(i, 0, event);
    return true;
  }

  /** Raises the watermark to `ts` and hands every held event at or before it to `apply`, oldest first. */
  releaseThrough(ts: number, apply: (event: LaneEvent) => void): void {
    if (ts > this.watermark) this.watermark = ts;
    while (this.head < this.events.length && (this.events[this.head] as LaneEvent).ts <= this.watermark) {
      apply(this.events[this.head++] as LaneEvent);
    }
    if (this.head === this.events.length) {
      this.events.length = 0;
      this.head = 0;
    } else if (this.head > COMPACT_AFTER && this.head * 2 > this.events.length) {
      this.events = this.events.slice(this.head);
      this.head = 0;
    }
  }

  /** The held events only, for a checkpoint (./persist). */
  toData(): { watermark: number; events: LaneEvent[] } {
    return { watermark: this.watermark, events: this.events.slice(this.head) };
  }

  static fromData(data: { watermark: number; events: LaneEvent[] }): ReorderBuffer {
    const buffer = new ReorderBuffer();
    buffer.watermark = data.watermark;
    buffer.events = data.events;
    return buffer;
  }
}

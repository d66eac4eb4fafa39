/** Bounded collections the lane engine keeps its rolling windows in. */

/**
 * Entries ordered by event time, keeping only the last `spanMs` behind the newest entry, so memory
 * is bounded by the span whatever the sale's length. Late entries are inserted in order (they are
 * at most a few seconds late, so the backward scan is short).
 */
export class TimeWindow<T> {
  private ts: number[] = [];
  private values: T[] = [];
  private head = 0;

  constructor(private readonly spanMs: number) {}

  add(ts: number, value: T): void {
    let i = this.ts.length;
    while (i > this.head && (this.ts[i - 1] as number) > ts) i--;
    this.ts.splice(i, 0, ts);
    this.values.splice(i, 0, value);
    this.evictBefore((this.ts[this.ts.length - 1] as number) - this.spanMs);
  }

  /** Removes the newest entry that satisfies `match` (an undone bid). */
  removeLast(match: (value: T, ts: number) => boolean): boolean {
    for (let i = this.ts.length - 1; i >= this.head; i--) {
      if (match(this.values[i] as T, this.ts[i] as number)) {
        this.ts.splice(i, 1);
        this.values.splice(i, 1);
        return true;
      }
    }
    return false;
  }

  /** Calls `visit` for each entry with `from <= ts < to`, oldest first. */
  forEachBetween(from: number, to: number, visit: (value: T, ts: number) => void): void {
    for (let i = this.head; i < this.ts.length; i++) {
      const ts = this.ts[i] as number;
      if (ts >= to) break;
      if (ts >= from) visit(this.values[i] as T, ts);
    }
  }

  countBetween(from: number, to: number, match: (value: T) => boolean = () => true): number {
    let n = 0;
    this.forEachBetween(from, to, (value) => {
      if (match(value)) n++;
    });
    return n;
  }

  get size(): number {
    return this.ts.length - this.head;
  }

  private evictBefore(cutoff: number): void {
    while (this.head < this.ts.length && (this.ts[this.head] as number) < cutoff) this.head++;
    // Compact now and then instead of shifting on every eviction.
    if (this.head > 1024 && this.head * 2 > this.ts.length) {
      this.ts = this.ts.slice(this.head);
      this.values = this.values.slice(this.head);
      this.head = 0;
    }
  }
}

/** The last `capacity` values, oldest first. */
export class RecentValues {
  private readonly items: number[] = [];

  constructor(private readonly capacity: number) {}

  push(value: number): void {
    this.items.push(value);
    if (this.items.length > this.capacity) this.items.shift();
  }

  values(): readonly number[] {
    return this.items;
  }
}

/** Nearest-rank percentile (METRICS.md); `null` for no values. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

/** Median taking the lower middle of an even count (METRICS.md), i.e. the nearest-rank p50. */
export function median(values: readonly number[]): number | null {
  return percentile(values, 50);
}

export function ratio(numerator: number, denominator: number): number | null {
  return denominator === 0 ? null : numerator / denominator;
}

export function percent(numerator: number, denominator: number): number | null {
  return denominator === 0 ? null : (numerator / denominator) * 100;
}

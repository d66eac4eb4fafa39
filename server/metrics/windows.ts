/** Bounded collections the lane engine keeps its rolling windows in, and the statistics over them. */

/** Dead entries a window or buffer keeps before compacting its arrays (fewer would copy tiny ones often). */
export const COMPACT_AFTER = 64;

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
    if (i === this.ts.length) {
      this.ts.push(ts);
      this.values.push(value);
    } else {
      this.ts.splice(i, 0, ts);
      this.values.splice(i, 0, value);
    }
    this.evictBefore((this.ts[this.ts.length - 1] as number) - this.spanMs);
  }

  /** Removes the newest entry that satisfies `match` (an undone bid). */
  removeLast(match: (value: T, ts: number) => boolean): void {
    for (let i = this.ts.length - 1; i >= this.head; i--) {
      if (match(this.values[i] as T, this.ts[i] as number)) {
        this.ts.splice(i, 1);
        this.values.splice(i, 1);
        return;
      }
    }
  }

  /** Calls `visit` for each entry with `from <= ts < to`, oldest first. */
  forEachBetween(from: number, to: number, visit: (value: T, ts: number) => void): void {
    for (let i = this.firstAtOrAfter(from); i < this.ts.length; i++) {
      const ts = this.ts[i] as number;
      if (ts >= to) break;
      visit(this.values[i] as T, ts);
    }
  }

  countBetween(from: number, to: number): number {
    return this.firstAtOrAfter(to) - this.firstAtOrAfter(from);
  }

  /** The live entries only, for a checkpoint (./persist). */
  toData(): { spanMs: number; ts: number[]; values: T[] } {
    return { spanMs: this.spanMs, ts: this.ts.slice(this.head), values: this.values.slice(this.head) };
  }

  static fromData<T>(data: { spanMs: number; ts: number[]; values: T[] }): TimeWindow<T> {
    const window = new TimeWindow<T>(data.spanMs);
    window.ts = data.ts;
    window.values = data.values;
    return window;
  }

  private firstAtOrAfter(ts: number): number {
    return lowerBound(this.ts, ts, this.head);
  }

  private evictBefore(cutoff: number): void {
    while (this.head < this.ts.length && (this.ts[this.head] as number) < cutoff) this.head++;
    // Compact once the evicted outnumber the kept: the copy is paid for by the evictions, and
    // memory stays within twice the span's entries.
    if (this.head > COMPACT_AFTER && this.head * 2 > this.ts.length) {
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

/**
 * A multiset of numbers kept sorted, so its median is read in O(1) and a value can be taken out
 * again (a reversed sale). Insert and remove are a binary search and one array move: cheap at the
 * few thousand values a lane holds.
 */
export class SortedValues {
  private readonly items: number[] = [];

  insert(value: number): void {
    this.items.splice(lowerBound(this.items, value), 0, value);
  }

  /** Removes one occurrence of `value`, if there is one. */
  remove(value: number): void {
    const i = lowerBound(this.items, value);
    if (this.items[i] === value) this.items.splice(i, 1);
  }

  median(): number | null {
    if (this.items.length === 0) return null;
    return this.items[Math.ceil(this.items.length / 2) - 1] as number;
  }
}

/** The first index at or after `from` whose value is ≥ `value`, in an ascending array (binary search). */
export function lowerBound(sorted: readonly number[], value: number, from = 0): number {
  let [lo, hi] = [from, sorted.length];
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
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

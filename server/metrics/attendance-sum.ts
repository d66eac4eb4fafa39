/**
 * A sale's online bidders summed over its open lanes, as it moves in event time: the current sum,
 * its peak, and its integral over time, for the time-weighted average. Updated only when a lane's
 * contribution changes, so the cost is O(1) per event whatever the sale's length.
 */
export class AttendanceSum {
  current = 0;
  peak = 0;
  /** ∫ current dt (bidders × ms) up to `since`. */
  private integral = 0;
  private since = -Infinity;

  /** A lane's contribution changed by `delta` at `ts`. */
  change(ts: number, delta: number): void {
    if (ts > this.since) {
      if (Number.isFinite(this.since)) this.integral += this.current * (ts - this.since);
      this.since = ts;
    }
    this.current += delta;
    if (this.current > this.peak) this.peak = this.current;
  }

  /** Time-weighted mean of the sum over [from, to]; null for an empty span. */
  averageBetween(from: number, to: number): number | null {
    if (to <= from) return null;
    return this.integralUntil(to) / (to - from);
  }

  /** ∫ current dt from the first change up to `to` (the sum is 0 before its first change). */
  integralUntil(to: number): number {
    return Number.isFinite(this.since) ? this.integral + this.current * Math.max(0, to - this.since) : 0;
  }
}

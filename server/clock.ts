/**
 * "Now" for a sale, in event time. Feeds stamp events with their own clocks, and the simulator runs
 * a 4-hour sale in minutes, so wall time cannot say how old a lane's data is. A sale's now is its
 * newest event time plus the wall time that has passed since that event was seen: it tracks the
 * feed while events flow and keeps ticking (at 1×) when they stop, which is what staleness needs.
 */
export class EventClock {
  private readonly latest = new Map<string, { ts: number; seenAt: number }>();

  constructor(private readonly wallNow: () => number = Date.now) {}

  observe(sale: string, latestTs: number): void {
    const known = this.latest.get(sale);
    if (!known || latestTs > known.ts) this.latest.set(sale, { ts: latestTs, seenAt: this.wallNow() });
  }

  forget(sale: string): void {
    this.latest.delete(sale);
  }

  now(sale: string): number {
    const known = this.latest.get(sale);
    return known ? known.ts + (this.wallNow() - known.seenAt) : this.wallNow();
  }
}

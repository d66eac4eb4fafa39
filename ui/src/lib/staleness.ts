/**
 * How old a lane's figures are, on the screen's own clock, so a lane that went quiet — or a server
 * that went away — shows as such even when nothing arrives to say so. The server's heartbeat
 * carries its sale's event-time now; between beats (and without them) that now runs on at the
 * wall clock's pace, as the server's own clock does (server/clock.ts).
 */
import type { LaneTile } from '../../../server/wire';

/**
 * `fresh`; `late`: older than the lane's own limit (a badge); `grey`: older than 30 s (values
 * greyed); `lost`: older than a minute (named in the banner). A closed lane is never stale.
 */
export type Staleness = 'fresh' | 'late' | 'grey' | 'lost';

export const GREY_AFTER_SEC = 30;
export const BANNER_AFTER_SEC = 60;
/** No heartbeat for this long: the screen says it is disconnected, whatever the socket thinks. */
export const HEARTBEAT_TIMEOUT_MS = 15_000;

export function stalenessOf(tile: Pick<LaneTile, 'state' | 'dataAt' | 'lateAfterSec'>, saleNow: number): Staleness {
  if (tile.state === 'closed' || tile.dataAt === null) return 'fresh';
  const ageSec = (saleNow - tile.dataAt) / 1000;
  if (ageSec >= BANNER_AFTER_SEC) return 'lost';
  if (ageSec >= GREY_AFTER_SEC) return 'grey';
  return ageSec >= tile.lateAfterSec ? 'late' : 'fresh';
}

/** A sale's event-time now, from the last heartbeat and the time since it came. */
export class SaleClock {
  #beat: { now: number; at: number } | null = null;

  constructor(private readonly wallNow: () => number = () => performance.now()) {}

  /** A heartbeat said the sale's now is `now`. */
  observe(now: number): void {
    this.#beat = { now, at: this.wallNow() };
  }

  /** null before the first heartbeat. */
  now(): number | null {
    return this.#beat && this.#beat.now + (this.wallNow() - this.#beat.at);
  }

  /** Wall-clock ms since the last heartbeat; Infinity before the first. */
  sinceBeatMs(): number {
    return this.#beat ? this.wallNow() - this.#beat.at : Infinity;
  }
}

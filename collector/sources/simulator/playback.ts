/**
 * Plays a simulated sale as a live feed: each event is released when the wall clock reaches
 * its place in the sale, scaled by `speed`.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { systemClock, type Clock } from '../clock';
import type { Source } from '../source';
import type { SimulatedSale } from './sale';

export type { Clock };

/** Events released back to back without a timer before the event loop gets a turn (for aborts and I/O). */
const CATCH_UP_BATCH = 1000;

export class SimulatorSource implements Source {
  readonly name = 'simulator';

  /** `speed` is simulated seconds per wall second; 0 plays as fast as the consumer pulls. */
  constructor(
    private readonly sale: SimulatedSale,
    private readonly speed: number,
    private readonly clock: Clock = systemClock,
  ) {
    if (!(speed >= 0)) throw new RangeError(`speed must be ≥ 0 (got ${speed})`);
  }

  async *messages(signal: AbortSignal): AsyncIterable<unknown> {
    // Every event is due at a fixed offset from this start, so slow pulls and timer lateness never accumulate.
    const wallStart = this.clock.now();
    let withoutTurn = 0;
    for (const event of this.sale.events()) {
      if (signal.aborted) return;
      const wait = this.speed > 0 ? wallStart + (event.ts - this.sale.start) / this.speed - this.clock.now() : 0;
      if (wait > 0) {
        try {
          await this.clock.sleep(wait, signal);
        } catch (error) {
          if (signal.aborted) return;
          throw error;
        }
        if (signal.aborted) return;
        withoutTurn = 0;
      } else if (++withoutTurn >= CATCH_UP_BATCH) {
        await nextTurn();
        if (signal.aborted) return;
        withoutTurn = 0;
      }
      yield event;
    }
  }
}

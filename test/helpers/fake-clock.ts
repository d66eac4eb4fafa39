import type { Clock } from '../../collector/sources/clock';

/** A clock for paced sources that jumps forward by each sleep, plus `lateMs` as real timers fire late. */
export function fakeClock(lateMs = 0): { clock: Clock; sleeps: number[]; advance(ms: number): void } {
  let now = 1_000;
  const sleeps: number[] = [];
  return {
    sleeps,
    advance: (ms) => {
      now += ms;
    },
    clock: {
      now: () => now,
      sleep: (ms) => {
        sleeps.push(ms);
        now += ms + lateMs;
        return Promise.resolve();
      },
    },
  };
}

import { setTimeout as sleep } from 'node:timers/promises';

/** What a paced source (simulator, replay) needs of time; tests pass a fake one. */
export interface Clock {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  /** Resolves after `ms`, or early (resolving or rejecting) once `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) => sleep(ms, undefined, { signal }),
};

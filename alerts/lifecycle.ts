/**
 * The life of one alert key as its rule sees it (../shared/METRICS.md §Alerts): warmup → ok →
 * pending → firing → recovering → resolved, driven by one verdict per evaluation. Suppression and
 * flapping are laid over it by the evaluator; this machine keeps running underneath them, so a
 * key comes out of a silence or a flapping spell in the state its data says.
 */

/**
 * A rule's reading of its condition at one evaluation. `breach`: the fire condition is true;
 * `clear`: past the clear threshold; `between`: inside the hysteresis band; `unknown`: nothing to
 * judge by (stale data, no figure yet) — every timer and state is held as it is.
 */
export type Verdict = 'breach' | 'clear' | 'between' | 'unknown';

export type LifecycleState = 'warmup' | 'ok' | 'pending' | 'firing' | 'recovering' | 'resolved';

export interface Lifecycle {
  state: LifecycleState;
  /** Event time the state began. */
  since: number;
  /** When the current trouble began (pending, or firing at once); kept until it resolves. */
  breachedAt: number | null;
  /** When the current episode fired; kept through recovering, cleared when it resolves. */
  firedAt: number | null;
  /** Recovering: since when the clear condition has held without a break (null: not right now). */
  clearSince: number | null;
}

export interface Timing {
  /** The condition must hold this long before firing. */
  holdMs: number;
  /** The clear condition must hold this long before resolving. */
  clearMs: number;
}

export function warmingUp(now: number): Lifecycle {
  return { state: 'warmup', since: now, breachedAt: null, firedAt: null, clearSince: null };
}

/**
 * The next state after one verdict at `now`. `readyAt` lets a rule fire before the hold is over
 * when it has tracked a faster path itself (the decline's disconnect pattern); `breachAt` dates a
 * new breach back to the evidence that showed it. Returns `current` itself when nothing changed.
 */
export function stepLifecycle(
  current: Lifecycle,
  verdict: Verdict,
  now: number,
  timing: Timing,
  readyAt?: number,
  breachAt = now,
): Lifecycle {
  switch (current.state) {
    case 'warmup':
    case 'ok':
    case 'resolved':
      if (verdict === 'breach') {
        const since = Math.min(breachAt, now);
        return isReady(since, now, timing, readyAt) ? enter('firing', now, since, now) : enter('pending', since, since);
      }
      // Leaving warmup with nothing wrong; `resolved` rests until the next breach.
      return current.state === 'warmup' && verdict !== 'unknown' ? enter('ok', now) : current;
    case 'pending':
      if (verdict === 'breach') {
        return isReady(current.since, now, timing, readyAt) ? enter('firing', now, current.breachedAt, now) : current;
      }
      // The condition must hold without a break: anything but a breach starts over.
      return verdict === 'unknown' ? current : enter('ok', now);
    case 'firing':
      if (verdict !== 'clear') return current;
      return timing.clearMs === 0
        ? enter('resolved', now)
        : enter('recovering', now, current.breachedAt, current.firedAt, now);
    case 'recovering':
      // Only a new breach takes it back to firing. Inside the band (not past the clear threshold,
      // not breaching) the clear clock stops and restarts at the next clear: noise around the clear
      // threshold then delays the resolve instead of flipping firing ⇄ recovering.
      if (verdict === 'breach') return enter('firing', now, current.breachedAt, current.firedAt);
      if (verdict === 'between') return current.clearSince === null ? current : { ...current, clearSince: null };
      if (verdict === 'unknown') return current;
      if (current.clearSince === null) return { ...current, clearSince: now };
      return now - current.clearSince >= timing.clearMs ? enter('resolved', now) : current;
  }
}

function isReady(pendingSince: number, now: number, timing: Timing, readyAt: number | undefined): boolean {
  return now - pendingSince >= timing.holdMs || (readyAt !== undefined && now >= readyAt);
}

function enter(
  state: LifecycleState,
  now: number,
  breachedAt: number | null = null,
  firedAt: number | null = null,
  clearSince: number | null = null,
): Lifecycle {
  return { state, since: now, breachedAt, firedAt, clearSince };
}

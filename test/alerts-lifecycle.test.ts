import { describe, expect, it } from 'vitest';
import { DEFAULT_ALERT_CONFIG } from '../alerts/config';
import { calmHistory, flipsIn, recordEvaluation } from '../alerts/flapping';
import { stepLifecycle, warmingUp, type Lifecycle, type Verdict } from '../alerts/lifecycle';

const timing = { holdMs: 30_000, clearMs: 60_000 };

/** Feeds one verdict a second from t = 0 and returns the states it went through, with when. */
function walk(verdicts: (t: number) => Verdict, seconds: number, readyAt?: number): [number, string][] {
  let lifecycle: Lifecycle = warmingUp(0);
  const states: [number, string][] = [];
  for (let t = 1; t <= seconds; t++) {
    const next = stepLifecycle(lifecycle, verdicts(t), t * 1000, timing, readyAt);
    if (next.state !== lifecycle.state) states.push([t, next.state]);
    lifecycle = next;
  }
  return states;
}

describe('alert lifecycle', () => {
  it('fires after an unbroken hold and resolves after an unbroken clear', () => {
    const verdict = (t: number): Verdict => (t < 10 ? 'clear' : t < 100 ? 'breach' : 'clear');
    expect(walk(verdict, 200)).toEqual([
      [1, 'ok'],
      [10, 'pending'],
      [40, 'firing'],
      [100, 'recovering'],
      [160, 'resolved'],
    ]);
  });

  it('starts the hold over after anything but a breach', () => {
    const verdict = (t: number): Verdict => (t < 10 ? 'clear' : t === 30 ? 'between' : 'breach');
    expect(walk(verdict, 100)).toEqual([
      [1, 'ok'],
      [10, 'pending'],
      [30, 'ok'],
      [31, 'pending'],
      [61, 'firing'],
    ]);
  });

  it('holds every timer on unknown (stale) verdicts', () => {
    const verdict = (t: number): Verdict => (t < 10 ? 'clear' : t < 20 ? 'breach' : t < 100 ? 'unknown' : 'breach');
    expect(walk(verdict, 120)).toEqual([
      [1, 'ok'],
      [10, 'pending'],
      [100, 'firing'],
    ]);
  });

  it('stops the clear clock inside the band and goes back to firing only on a breach', () => {
    const verdict = (t: number): Verdict => {
      if (t < 10) return 'clear';
      if (t < 60) return 'breach';
      if (t < 100) return 'clear';
      if (t < 110) return 'between';
      if (t < 120) return 'clear';
      return t < 130 ? 'breach' : 'clear';
    };
    expect(walk(verdict, 300)).toEqual([
      [1, 'ok'],
      [10, 'pending'],
      [40, 'firing'],
      [60, 'recovering'],
      // In the band at 100–109: still recovering, but the 60 s start again from 110.
      [120, 'firing'],
      [130, 'recovering'],
      [190, 'resolved'],
    ]);
    const banded = (t: number): Verdict => (t < 10 ? 'breach' : t >= 50 && t < 60 ? 'between' : 'clear');
    expect(walk(banded, 200)).toEqual([
      [1, 'pending'],
      [10, 'ok'],
    ]);
  });

  it('fires at readyAt before the hold is over', () => {
    const verdict = (t: number): Verdict => (t < 10 ? 'clear' : 'breach');
    expect(walk(verdict, 60, 20_000)).toEqual([
      [1, 'ok'],
      [10, 'pending'],
      [20, 'firing'],
    ]);
  });
});

describe('flap detection', () => {
  const config = DEFAULT_ALERT_CONFIG.flapping;

  it('enters at 11 flips in the last 21 evaluations and leaves at 5', () => {
    let history = calmHistory();
    const flapping: number[] = [];
    for (let i = 1; i <= 60; i++) {
      const before = history.flapping;
      history = recordEvaluation(history, i <= 11, i, config);
      if (history.flapping !== before) flapping.push(i);
    }
    // In at the 11th flip; out at the 27th evaluation, whose window (7th–27th) holds 5 flips.
    expect(flapping).toEqual([11, 27]);
  });

  it('counts an evaluation once per new evidence, crediting a flip in between to the next one', () => {
    let history = calmHistory();
    history = recordEvaluation(history, false, 1, config);
    history = recordEvaluation(history, true, 1, config);
    history = recordEvaluation(history, false, 1, config);
    expect(flipsIn(history)).toBe(0);
    history = recordEvaluation(history, false, 2, config);
    expect(flipsIn(history)).toBe(1);
  });
});

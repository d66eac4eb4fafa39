import { describe, expect, it } from 'vitest';
import { createAlertsState, restoreAlerts, serializeAlerts } from '../alerts/evaluator';
import { firings, run, steps, type Scenario } from './helpers/alert-scenario';

// Lane 1 falls to 20 at 600 (pending; firing at 630) and is back at 900 (resolved at 980).
const scenario: Scenario = {
  lanes: [
    { lane: '1', online: (t) => (t >= 600 && t < 900 ? 20 : 40) },
    { lane: '2', online: () => 40 },
  ],
};

/** Runs to `cut`, restores the state from its JSON text into a fresh evaluator, and runs on to `end`. */
function restartedAt(cut: number, end: number) {
  const before = run(scenario, 0, cut);
  const text = serializeAlerts(before.state);
  const restored = restoreAlerts(text);
  expect(restored).toEqual(JSON.parse(text));
  expect(serializeAlerts(restored)).toBe(text);
  return run(scenario, cut + 1, end, restored, before.memory).seen;
}

describe('alert state across a restart', () => {
  const whole = run(scenario, 0, 1200).seen;

  it('restored mid-pending, fires once at the same time and goes on exactly as without a restart', () => {
    const after = restartedAt(615, 1200);
    expect(firings(after, 'attendance.decline', '1')).toEqual([630]);
    expect(after).toEqual(whole.filter((s) => s.t > 615));
  });

  it('restored mid-firing, does not fire again, and resolves with the next transition number', () => {
    const after = restartedAt(700, 1200);
    expect(firings(after, 'attendance.decline', '1')).toEqual([]);
    expect(steps(after, 'attendance.decline', '1')).toEqual([
      [920, 'recovering'],
      [980, 'resolved'],
    ]);
    expect(after.find((s) => s.to === 'resolved' && s.alert.lane === '1')?.alert.transition).toBe(5);
    expect(after).toEqual(whole.filter((s) => s.t > 700));
  });

  it('refuses a state of another version', () => {
    expect(() => restoreAlerts(JSON.stringify({ ...createAlertsState(), version: 0 }))).toThrow(/version 0/);
  });
});

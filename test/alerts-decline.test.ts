import { describe, expect, it } from 'vitest';
import type { LaneDeclineMemory } from '../alerts/rules/decline';
import type { SeasonalPrior } from '../alerts/seasonal';
import { at, configWith, firings, run, steps, type LaneScript } from './helpers/alert-scenario';

const MIN = 60;
/** 40 bidders, and `low` from `from` to `to` (seconds). */
const dip =
  (low: number, from: number, to = Infinity) =>
  (t: number) =>
    t >= from && t < to ? low : 40;

describe('attendance.decline (lane)', () => {
  it('fires 30 s after 40 bidders fall to 20, and resolves 60 s after its 30-s mean is back within 12.5 %', () => {
    const { seen } = run({ lanes: [{ lane: '1', online: dip(20, 600, 900) }] }, 0, 1200);
    expect(steps(seen, 'attendance.decline', '1')).toEqual([
      [120, 'ok'],
      [600, 'pending'],
      [630, 'firing'],
      // Back at 40 from 900: the mean of the last 30 s reaches 35 (87.5 %) at 920.
      [920, 'recovering'],
      [980, 'resolved'],
    ]);
    const fired = seen.find((s) => s.alert.rule === 'attendance.decline' && s.to === 'firing');
    expect(fired?.alert).toMatchObject({
      severity: 'warning',
      firedAt: at(630),
      transition: 3,
      message: 'Lane 1: online bidders down 50 % (40 → 20)',
      figures: { onlineBidders: 20, baseline: 40, dropPct: 50 },
    });
  });

  it('counts the hold from the sample that showed the fall, not from when the reorder window let it through', () => {
    const { seen } = run({ lanes: [{ lane: '1', online: dip(20, 600, 900) }], sampleDelaySec: 2 }, 0, 700);
    expect(steps(seen, 'attendance.decline', '1')).toEqual([
      [120, 'ok'],
      [602, 'pending'],
      [630, 'firing'],
    ]);
  });

  it('does not fire on a fall that does not hold for 30 s', () => {
    const { seen } = run({ lanes: [{ lane: '1', online: dip(20, 600, 625) }] }, 0, 900);
    expect(steps(seen, 'attendance.decline', '1')).toEqual([
      [120, 'ok'],
      [600, 'pending'],
      [625, 'ok'],
    ]);
  });

  it('needs an absolute drop of 2·√baseline: 8 below a baseline of 20 is noise, 9 is not', () => {
    const eight = run({ lanes: [{ lane: '1', online: (t) => (t >= 600 && t < 700 ? 12 : 20) }] }, 0, 660);
    expect(steps(eight.seen, 'attendance.decline', '1')).toEqual([[120, 'ok']]);
    const nine = run({ lanes: [{ lane: '1', online: (t) => (t >= 600 && t < 700 ? 11 : 20) }] }, 0, 660);
    expect(steps(nine.seen, 'attendance.decline', '1')).toEqual([
      [120, 'ok'],
      [600, 'pending'],
      [630, 'firing'],
    ]);
  });

  it('fires once in an hour of a count oscillating ±10 % around the threshold', () => {
    // The threshold is 30 (25 % below 40): a minute at 27, a minute at 33, for an hour.
    const online = (t: number) => (t < 600 ? 40 : Math.floor((t - 600) / 60) % 2 === 0 ? 27 : 33);
    const { seen } = run({ lanes: [{ lane: '1', online }] }, 0, 600 + 3600);
    expect(firings(seen, 'attendance.decline', '1')).toEqual([630]);
    // 33 is never back within 12.5 % of 40: hysteresis keeps it firing instead of flipping.
    expect(steps(seen, 'attendance.decline', '1').filter(([, to]) => to === 'resolved')).toEqual([]);
  });

  it('shows a count crossing hard back and forth as one flapping spell, not a pending/ok stream', () => {
    const online = (t: number) => (t < 600 ? 40 : ((t - 600) / 5) % 2 === 0 ? 20 : 60);
    const { seen } = run({ lanes: [{ lane: '1', online }] }, 0, 600 + 3600);
    const decline = steps(seen, 'attendance.decline', '1');
    // Eleven flips (one per sample) make a flapping key; it then stays flapping while it lasts.
    expect(decline.filter(([, to]) => to === 'flapping')).toEqual([[650, 'flapping']]);
    expect(decline.filter(([t]) => t > 650)).toEqual([]);
    expect(firings(seen, 'attendance.decline', '1')).toEqual([]);
  });

  it('does not read a stale lane as zero bidders: no decline, and its baseline learns nothing', () => {
    // The last sample says 0, then the lane says nothing more while its feed connection beats on.
    const lane: LaneScript = {
      lane: '1',
      online: (t) => (t < 600 ? 40 : t === 600 ? 0 : null),
      speaks: (t) => t <= 600,
    };
    const { seen, state } = run({ lanes: [lane] }, 0, 1800);
    expect(firings(seen, 'attendance.decline', '1')).toEqual([]);
    expect(firings(seen, 'feed.stale', '1')).toEqual([616]);
    expect(steps(seen, 'attendance.decline', '1')).toEqual([
      [120, 'ok'],
      [600, 'pending'],
      [616, 'suppressed'],
    ]);
    const memory = state.sales.s1?.lanes['1']?.keys['attendance.decline']?.memory as LaneDeclineMemory;
    expect(memory.baseline.level).toBe(40);
    // Minutes 0–9 closed by the sample at 600; nothing after it.
    expect(memory.baseline.learned).toBe(10);
  });

  it('fires 10 s after a disconnect: 40 to 0 in one sample', () => {
    const { seen } = run({ lanes: [{ lane: '1', online: dip(0, 600) }] }, 0, 700);
    expect(steps(seen, 'attendance.decline', '1')).toEqual([
      [120, 'ok'],
      [600, 'pending'],
      [610, 'firing'],
    ]);
  });

  it('takes the 30 s path when the fall does not stay at the disconnect level', () => {
    // 40 → 10 is a 75 % drop, but 20 next: ≤ 40 % of 40 is 16, so no disconnect; still a decline.
    const { seen } = run({ lanes: [{ lane: '1', online: (t) => (t < 600 ? 40 : t === 600 ? 10 : 20) }] }, 0, 700);
    expect(firings(seen, 'attendance.decline', '1')).toEqual([630]);
  });

  it('catches with its CUSUM a slow bleed that never crosses the 25 % threshold', () => {
    // 40 bidders, then one fewer a minute down to 32 (−20 %); back to 40 at 1800.
    const online = (t: number) => (t < 600 || t >= 1800 ? 40 : Math.max(32, 40 - Math.floor((t - 600) / 60) - 1));
    const withCusum = run({ lanes: [{ lane: '1', online }] }, 0, 2400);
    expect(steps(withCusum.seen, 'attendance.decline', '1')).toEqual([
      [120, 'ok'],
      // The CUSUM reaches its threshold as minute 20 closes: pending, and firing 30 s later.
      [1260, 'pending'],
      [1290, 'firing'],
      // 32 is within 12.5 % of its baseline (36.9) all along: only the CUSUM coming back down to
      // 2, as minute 31 closes, says the bleed is over.
      [1920, 'recovering'],
      [1980, 'resolved'],
    ]);
    const thresholdOnly = run(
      { lanes: [{ lane: '1', online }], config: configWith({ 'attendance.decline': { cusum: { threshold: 1000 } } }) },
      0,
      2400,
    );
    expect(firings(thresholdOnly.seen, 'attendance.decline', '1')).toEqual([]);
  });

  it('does not page for an end-of-sale fade its seasonal prior expects, which it would page for without one', () => {
    // From minute 30 the lane loses 2 bidders a minute down to 20: what this site's sales always do.
    const shape = (minute: number) => (minute < 30 ? 40 : Math.max(20, 40 - 2 * (minute - 30)));
    const online = (t: number) => Math.round(shape(t / MIN));
    const prior: SeasonalPrior = { expected: (_auction, _lane, minute) => shape(minute) };
    const withPrior = run({ lanes: [{ lane: '1', online }], prior }, 0, 3000);
    expect(steps(withPrior.seen, 'attendance.decline', '1')).toEqual([[120, 'ok']]);
    expect(steps(withPrior.seen, 'attendance.decline')).toEqual([
      [120, 'ok'],
      [120, 'ok'],
    ]);
    const without = run({ lanes: [{ lane: '1', online }] }, 0, 3000);
    expect(firings(without.seen, 'attendance.decline', '1')).toEqual([2190]);
  });
});

describe('attendance.decline (sale)', () => {
  it('fires (critical) when the sum of the open lanes falls, though no lane crosses its own threshold', () => {
    // Four lanes of 20 lose 8 each: below 2·√20 per lane, 40 % of the sale's 80.
    const lanes = ['1', '2', '3', '4'].map((lane) => ({
      lane,
      online: (t: number) => (t >= 600 && t < 900 ? 12 : 20),
    }));
    const { seen } = run({ lanes }, 0, 1100);
    expect(steps(seen, 'attendance.decline', undefined, 'sale')).toEqual([
      [120, 'ok'],
      [600, 'pending'],
      [630, 'firing'],
      // Within 10 % of 80 by its 30-s mean at 920, for 60 s.
      [920, 'recovering'],
      [980, 'resolved'],
    ]);
    const fired = seen.find((s) => s.alert.scope === 'sale' && s.to === 'firing');
    expect(fired?.alert).toMatchObject({ severity: 'critical', message: 'Sale: online bidders down 40 % (80 → 48)' });
    // Each lane's CUSUM needs two closed minutes of it (600–720), then its 30 s hold.
    expect(firings(seen, 'attendance.decline', '1')).toEqual([750]);
  });
});

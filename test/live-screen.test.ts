/**
 * The wall display's own logic, outside the browser: how a chart takes the server's deltas and a
 * backfill, how old figures are judged stale, and how the grid is shaped for 1 to 48 lanes.
 */
import { describe, expect, it } from 'vitest';
import { ChartData } from '../ui/src/lib/chart-data';
import { gridShape } from '../ui/src/lib/grid';
import { SaleClock, stalenessOf } from '../ui/src/lib/staleness';

const STEP = 15_000;
const T = 1_800_000_000_000;

describe('a chart on screen', () => {
  it('takes a whole chart, then appends and replaces from the first changed bucket', () => {
    const chart = new ChartData();
    chart.apply({ window: { from: T, to: T + 3 * STEP }, points: { from: T, ts: [T, T + STEP], online: [10, 11] } });
    chart.apply({
      window: { from: T, to: T + 4 * STEP },
      points: { from: T + STEP, ts: [T + STEP, T + 2 * STEP], online: [12, 13] },
    });
    expect([chart.ts, chart.online]).toEqual([
      [T, T + STEP, T + 2 * STEP],
      [10, 12, 13],
    ]);
  });

  it('drops the points that left the window, and keeps band and markers until new ones come', () => {
    const chart = new ChartData();
    const band = { ts: [T], expected: [20], declineAt: [14] };
    const markers = [{ key: 'k', rule: 'bids.missed' as const, severity: 'warning' as const, from: T, to: null }];
    chart.apply({
      window: { from: T, to: T + STEP },
      points: { from: T, ts: [T, T + STEP], online: [1, 2] },
      band,
      markers,
    });
    chart.apply({ window: { from: T + STEP, to: T + 2 * STEP } });
    expect(chart.ts).toEqual([T + STEP]);
    expect(chart.band).toEqual(band);
    expect(chart.markers).toEqual(markers);
  });

  it('fills a gap from history before the live points that follow it', () => {
    const chart = new ChartData();
    chart.apply({ window: { from: T, to: T + STEP }, points: { from: T, ts: [T, T + STEP], online: [5, 6] } });
    // Disconnected after T + STEP; the server resumes live from T + 5 steps.
    chart.fill(T + STEP, [
      [T + STEP, 7],
      [T + 2 * STEP, 8],
      [T + 3 * STEP, 9],
      [T + 4 * STEP, 10],
    ]);
    chart.apply({
      window: { from: T, to: T + 6 * STEP },
      points: { from: T + 5 * STEP, ts: [T + 5 * STEP, T + 6 * STEP], online: [11, 12] },
    });
    expect(chart.ts).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => T + i * STEP));
    expect(chart.online).toEqual([5, 7, 8, 9, 10, 11, 12]);
  });
});

describe('stale figures', () => {
  const tile = { state: 'open' as const, dataAt: T, lateAfterSec: 15 };

  it('are late past the lane’s own limit, greyed from 30 s, in the banner from 60 s', () => {
    expect(stalenessOf(tile, T + 14_999)).toBe('fresh');
    expect(stalenessOf(tile, T + 15_000)).toBe('late');
    expect(stalenessOf({ ...tile, lateAfterSec: 21 }, T + 20_000)).toBe('fresh');
    expect(stalenessOf(tile, T + 30_000)).toBe('grey');
    expect(stalenessOf(tile, T + 60_000)).toBe('lost');
  });

  it('never mark a closed lane or one that has sent nothing yet', () => {
    expect(stalenessOf({ ...tile, state: 'closed' }, T + 600_000)).toBe('fresh');
    expect(stalenessOf({ ...tile, dataAt: null }, T + 600_000)).toBe('fresh');
  });

  it('are aged on a clock that runs on from the last heartbeat', () => {
    let wall = 1000;
    const clock = new SaleClock(() => wall);
    expect(clock.now()).toBeNull();
    expect(clock.sinceBeatMs()).toBe(Infinity);
    clock.observe(T);
    wall += 16_000;
    expect(clock.now()).toBe(T + 16_000);
    expect(clock.sinceBeatMs()).toBe(16_000);
  });
});

describe('the lane grid', () => {
  const hd = { width: 1500, height: 950, gap: 8, rem: 16 };

  it.each([
    [1, 1, 1, false],
    [2, 2, 1, false],
    [8, 3, 3, false],
    [12, 4, 3, false],
    [24, 6, 4, false],
    [48, 8, 6, true],
  ])('puts %i lanes in %i × %i on a 1080p screen (dense: %s)', (lanes, columns, rows, dense) => {
    expect(gridShape(lanes, hd)).toEqual({ columns, rows, dense });
  });

  it('gives a 4K screen the same shapes, twice the size', () => {
    const uhd = { width: 3000, height: 1900, gap: 16, rem: 32 };
    for (const lanes of [1, 8, 24, 48]) expect(gridShape(lanes, uhd)).toEqual(gridShape(lanes, hd));
  });
});

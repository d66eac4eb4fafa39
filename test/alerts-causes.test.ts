import { describe, expect, it } from 'vitest';
import { run, type LaneScript } from './helpers/alert-scenario';

const steady = () => 40;
const fallsAt600 = (t: number) => (t < 600 ? 40 : 20);

function causesWhenFiring(lanes: LaneScript[], lane = '1'): string[] | undefined {
  const { seen } = run({ lanes }, 0, 700);
  return seen.find((s) => s.alert.rule === 'attendance.decline' && s.alert.lane === lane && s.to === 'firing')?.alert
    .causes;
}

describe('likely causes of a lane decline', () => {
  it('names the lane’s stream lag and its clerk change before it, and that the other lanes hold', () => {
    const fields = (t: number) => ({
      streamLatencyMs: t < 500 ? 1000 : 5000,
      clerk: t < 550 ? 'Dale Garza' : 'Earl Holt',
    });
    const lanes = [
      { lane: '1', online: fallsAt600, fields },
      { lane: '2', online: steady },
      { lane: '3', online: steady },
    ];
    expect(causesWhenFiring(lanes)).toEqual([
      'stream lag on lane 1 (up to 5.0 s)',
      'clerk changed 1 min before the drop (Dale Garza → Earl Holt)',
      'only lane 1 is falling: look at the lane itself',
    ]);
  });

  it('puts the sale-wide trend first when every lane falls together', () => {
    const lanes = ['1', '2', '3'].map((lane) => ({ lane, online: fallsAt600 }));
    expect(causesWhenFiring(lanes)).toEqual(['all lanes falling (2 of 2 others down ≥ 15 %): platform or end of sale']);
  });

  it('ranks lost messages over a fast pace over a run of no-sales', () => {
    const fields = (t: number) => ({
      feedGaps: t < 400 ? 0 : 3,
      hammerLeadSec: t < 450 ? 6 : 2.5,
      // A run finishes every 30 s; from 450 each is a no-sale.
      offered: Math.floor(t / 30),
      noSale: Math.max(0, Math.floor(t / 30) - 15),
    });
    const lanes = [
      { lane: '1', online: fallsAt600, fields },
      { lane: '2', online: steady },
    ];
    expect(causesWhenFiring(lanes)).toEqual([
      "3 messages lost on lane 1's feed",
      'pace too fast (hammer 2.5 s after the last online bid, 45 s a vehicle)',
      '6 no-sales in a row',
      'only lane 1 is falling: look at the lane itself',
    ]);
  });

  it('keeps no history beyond its window', () => {
    const { state } = run({ lanes: [{ lane: '1', online: steady }] }, 0, 3600);
    // 10 min of 30-s slots, plus two.
    expect(state.sales.s1?.lanes['1']?.history.slots).toHaveLength(22);
  });
});

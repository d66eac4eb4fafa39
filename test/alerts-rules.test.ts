import { describe, expect, it } from 'vitest';
import { at, configWith, firings, run, steps, type LaneScript } from './helpers/alert-scenario';

const steady = (t: number) => (t >= 0 ? 40 : null);

describe('feed.stale', () => {
  it('fires (critical) for a connection silent for 15 s and resolves on its next event', () => {
    const silent = (t: number) => t <= 600 || t >= 700;
    const lanes: LaneScript[] = ['1', '2'].map((lane) => ({ lane, online: steady, speaks: silent }));
    const { seen } = run({ lanes, heartbeat: silent }, 0, 800);
    expect(steps(seen, 'feed.stale', undefined, 'source')).toEqual([
      [120, 'ok'],
      [616, 'firing'],
      [700, 'resolved'],
    ]);
    expect(seen.find((s) => s.alert.scope === 'source' && s.to === 'firing')?.alert).toMatchObject({
      key: 'feed.stale|dallas|s1|source:feed-1',
      severity: 'critical',
      message: 'Feed feed-1: no event for 16 s (limit 15 s)',
    });
    // Its lanes went quiet with it: that is the connection's alert, not theirs.
    expect(firings(seen, 'feed.stale', '1')).toEqual([]);
  });

  it('does not blame the lanes of a connection that comes back a few seconds before they do', () => {
    const lanes: LaneScript[] = ['1', '2'].map((lane) => ({
      lane,
      online: steady,
      speaks: (t) => t <= 600 || t >= 705,
    }));
    const { seen } = run({ lanes, heartbeat: (t) => t <= 600 || t >= 700 }, 0, 800);
    expect(firings(seen, 'feed.stale', '1')).toEqual([]);
    expect(firings(seen, 'feed.stale', '2')).toEqual([]);
  });

  it('fires for one lane gone quiet while its connection and the other lanes go on', () => {
    const lanes: LaneScript[] = [
      { lane: '1', online: steady },
      { lane: '2', online: (t) => (t <= 600 || t >= 700 ? 40 : null), speaks: (t) => t <= 600 || t >= 700 },
    ];
    const { seen } = run({ lanes }, 0, 800);
    expect(steps(seen, 'feed.stale', '2')).toEqual([
      [120, 'ok'],
      [616, 'firing'],
      [700, 'resolved'],
    ]);
    expect(steps(seen, 'feed.stale', undefined, 'source')).toEqual([[120, 'ok']]);
  });

  it('waits 3 × the p95 gap for a lane that speaks every 10 s', () => {
    const lanes: LaneScript[] = [
      { lane: '1', online: steady },
      { lane: '2', online: (t) => (t <= 600 ? 40 : null), speaks: (t) => t % 10 === 0 && t <= 600 },
    ];
    const { seen } = run({ lanes }, 0, 700);
    expect(firings(seen, 'feed.stale', '2')).toEqual([631]);
  });
});

describe('lane.stalled', () => {
  const idleFrom = (outcome: number, upAgain: number) => (t: number) => ({
    runUpAt: t >= upAgain ? at(upAgain) : null,
    lastOutcomeAt: at(Math.min(t, outcome)),
  });

  it('fires when no vehicle has gone up for more than 90 s and clears at the next one', () => {
    const { seen } = run({ lanes: [{ lane: '1', online: steady, fields: idleFrom(300, 500) }] }, 0, 600);
    expect(steps(seen, 'lane.stalled', '1')).toEqual([
      [120, 'ok'],
      [391, 'firing'],
      [500, 'resolved'],
    ]);
    expect(seen.find((s) => s.alert.rule === 'lane.stalled' && s.to === 'firing')?.alert.message).toBe(
      'Lane 1: no vehicle up for 91 s',
    );
  });

  it('waits twice the median run time when that is longer than 90 s', () => {
    const fields = (t: number) => ({ ...idleFrom(300, 700)(t), secondsPerVehicle: 60 });
    const { seen } = run({ lanes: [{ lane: '1', online: steady, fields }] }, 0, 700);
    expect(firings(seen, 'lane.stalled', '1')).toEqual([421]);
  });

  it('fires when one vehicle stays on the block for more than 300 s and clears at its outcome', () => {
    const fields = (t: number) => ({
      runUpAt: t < 1400 ? at(Math.min(t, 1000)) : null,
      lastOutcomeAt: at(t < 1400 ? 990 : 1400),
    });
    const { seen } = run({ lanes: [{ lane: '1', online: steady, fields }] }, 0, 1450);
    expect(steps(seen, 'lane.stalled', '1')).toEqual([
      [120, 'ok'],
      [1301, 'firing'],
      [1400, 'resolved'],
    ]);
  });
});

describe('clerk.slow', () => {
  const latency =
    (p95: (t: number) => number, bids = 20) =>
    (t: number) => ({ clerkLatencyP95Ms: p95(t), clerkLatencyBids: bids });

  it('fires at a p95 over 3 s and resolves only below 2 s', () => {
    const p95 = (t: number) => (t < 300 ? 1200 : t < 400 ? 3500 : t < 500 ? 2500 : 1900);
    const { seen } = run({ lanes: [{ lane: '1', online: steady, fields: latency(p95) }] }, 0, 600);
    expect(steps(seen, 'clerk.slow', '1')).toEqual([
      [120, 'ok'],
      [300, 'firing'],
      [500, 'resolved'],
    ]);
  });

  it('does not judge on fewer than 5 online bids', () => {
    const { seen } = run({ lanes: [{ lane: '1', online: steady, fields: latency(() => 4000, 4) }] }, 0, 300);
    expect(firings(seen, 'clerk.slow', '1')).toEqual([]);
  });
});

describe('bids.missed', () => {
  it('fires at 2 missed online bids in 10 min and resolves when none is left in the window', () => {
    const missed = (t: number) => ({ missedOnlineBidsLast10Min: t < 300 ? 0 : t < 400 ? 2 : t < 1000 ? 1 : 0 });
    const { seen } = run({ lanes: [{ lane: '1', online: steady, fields: missed }] }, 0, 1100);
    expect(steps(seen, 'bids.missed', '1')).toEqual([
      [120, 'ok'],
      [300, 'firing'],
      [1000, 'resolved'],
    ]);
  });
});

describe('pace.fast', () => {
  const pace =
    (lead: (t: number) => number, perVehicle = 45) =>
    (t: number) => ({
      hammerLeadSec: lead(t),
      secondsPerVehicle: perVehicle,
    });

  it('fires when the hammer falls under 3 s after the last online bid and clears at 5 s', () => {
    const lead = (t: number) => (t < 300 ? 6 : t < 400 ? 2.5 : t < 500 ? 4 : 5);
    const { seen } = run({ lanes: [{ lane: '1', online: steady, fields: pace(lead) }] }, 0, 600);
    expect(steps(seen, 'pace.fast', '1')).toEqual([
      [120, 'ok'],
      [300, 'firing'],
      [500, 'resolved'],
    ]);
  });

  it('fires at under 30 s a vehicle, but not with fewer than 10 online bidders', () => {
    const fast = run({ lanes: [{ lane: '1', online: steady, fields: pace(() => 6, 28) }] }, 0, 300);
    expect(firings(fast.seen, 'pace.fast', '1')).toEqual([120]);
    const few = run({ lanes: [{ lane: '1', online: () => 8, fields: pace(() => 2) }] }, 0, 300);
    expect(firings(few.seen, 'pace.fast', '1')).toEqual([]);
  });
});

describe('stream.lagging', () => {
  it('fires after 30 s over 3 s and resolves after 30 s under 2 s', () => {
    const latency = (t: number) => ({ streamLatencyMs: t < 300 ? 1000 : t < 600 ? 3500 : t < 700 ? 2500 : 1500 });
    const { seen } = run({ lanes: [{ lane: '1', online: steady, fields: latency }] }, 0, 800);
    expect(steps(seen, 'stream.lagging', '1')).toEqual([
      [120, 'ok'],
      [300, 'pending'],
      [330, 'firing'],
      [700, 'recovering'],
      [730, 'resolved'],
    ]);
  });

  it('with hold and clear at 0, a delay crossing hard back and forth flaps once instead of paging each time', () => {
    const config = configWith({ 'stream.lagging': { holdSec: 0, clearSec: 0 } });
    // Hard crossings every 10 s for an hour, then a calm delay that still varies.
    const latency = (t: number) => {
      const step = Math.floor((t - 300) / 10);
      if (t < 300) return 1000;
      if (t < 3900) return step % 2 === 0 ? 5000 : 1000;
      return step % 2 === 0 ? 1100 : 1000;
    };
    const { seen } = run(
      { lanes: [{ lane: '1', online: steady, fields: (t) => ({ streamLatencyMs: latency(t) }) }], config },
      0,
      4200,
    );
    const lagging = steps(seen, 'stream.lagging', '1');
    // Five pages before the 11th flip in 21 evaluations (at 400) shows it as unstable, then quiet
    // until 16 calm readings have pushed the flips out of the window.
    expect(firings(seen, 'stream.lagging', '1')).toEqual([300, 320, 340, 360, 380]);
    expect(lagging.filter(([t]) => t >= 390)).toEqual([
      [390, 'resolved'],
      [400, 'flapping'],
      [4050, 'resolved'],
    ]);
    expect(seen.find((s) => s.to === 'flapping')?.alert.message).toBe(
      'Lane 1: stream unstable (state flipped in 11 of the last 21 checks)',
    );
  });
});

describe('online.silent', () => {
  it('fires when 10+ online bidders have not bid on the last 8 runs, and clears on an online bid', () => {
    // A run finishes every minute; the runs from the 6th on have no online bid, until one at 800.
    const fields = (t: number) => ({
      offered: Math.floor(t / 60),
      runsWithOnlineBid: Math.min(Math.floor(t / 60), 5),
      runHasOnlineBid: t >= 800,
    });
    const { seen } = run({ lanes: [{ lane: '1', online: steady, fields }] }, 0, 900);
    expect(steps(seen, 'online.silent', '1')).toEqual([
      [120, 'ok'],
      [780, 'firing'],
      [800, 'resolved'],
    ]);
    expect(seen.find((s) => s.alert.rule === 'online.silent' && s.to === 'firing')?.alert.message).toBe(
      'Lane 1: no online bid on the last 8 runs with 40 online',
    );
  });
});

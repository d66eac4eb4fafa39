import { describe, expect, it } from 'vitest';
import { alertKey } from '../alerts/alert-key';
import { acknowledgeAlert } from '../alerts/evaluator';
import { at, firings, run, steps, type LaneScript } from './helpers/alert-scenario';

const steady = () => 40;
/** Idle from an outcome at 300 (lane.stalled fires at 391) until a vehicle goes up at `upAt`. */
const stalledUntil = (upAt: number) => (t: number) => ({
  runUpAt: t >= upAt ? at(upAt) : null,
  lastOutcomeAt: at(Math.min(t, 300)),
});

describe('precedence', () => {
  it('a dead connection explains its lane’s own silence: the lane’s feed.stale is suppressed while it lasts', () => {
    const lanes: LaneScript[] = [
      { lane: '1', online: steady, speaks: (t) => t < 650 || t >= 700 },
      { lane: '2', online: (t) => (t < 600 ? 40 : null), speaks: (t) => t < 600 },
    ];
    const { seen } = run({ lanes, heartbeat: (t) => t < 650 || t >= 700 }, 0, 760);
    expect(steps(seen, 'feed.stale', undefined, 'source')).toEqual([
      [120, 'ok'],
      [665, 'firing'],
      [700, 'resolved'],
    ]);
    expect(steps(seen, 'feed.stale', '2')).toEqual([
      [120, 'ok'],
      [615, 'firing'],
      [665, 'suppressed'],
      [700, 'firing'],
    ]);
    // Still the episode that fired at 615: a screen shows it again, a phone is not paged anew.
    expect(seen.find((s) => s.alert.lane === '2' && s.t === 700)?.alert.firedAt).toBe(at(615));
  });

  it('a stale lane explains a stalled one', () => {
    const lane: LaneScript = {
      lane: '1',
      online: (t) => (t < 450 ? 40 : null),
      speaks: (t) => t < 450,
      fields: stalledUntil(1000),
    };
    const { seen } = run({ lanes: [lane, { lane: '2', online: steady }] }, 0, 600);
    expect(steps(seen, 'feed.stale', '1')).toEqual([
      [120, 'ok'],
      [465, 'firing'],
    ]);
    expect(steps(seen, 'lane.stalled', '1')).toEqual([
      [120, 'ok'],
      [391, 'firing'],
      [465, 'suppressed'],
    ]);
  });

  it('a stalled lane explains its audience leaving, until a vehicle goes up again', () => {
    const lane: LaneScript = { lane: '1', online: (t) => (t < 600 ? 40 : 20), fields: stalledUntil(700) };
    const { seen } = run({ lanes: [lane] }, 0, 800);
    expect(steps(seen, 'lane.stalled', '1')).toEqual([
      [120, 'ok'],
      [391, 'firing'],
      [700, 'resolved'],
    ]);
    expect(steps(seen, 'attendance.decline', '1')).toEqual([
      [120, 'ok'],
      [391, 'suppressed'],
      // Its own lifecycle went on underneath (firing since 630); it shows, and pages, from 700.
      [700, 'firing'],
    ]);
    expect(
      seen.find((s) => s.alert.rule === 'attendance.decline' && s.alert.scope === 'lane' && s.t === 700)?.alert.firedAt,
    ).toBe(at(700));
  });
});

describe('warmup', () => {
  it('holds every rule of a new lane for 2 min and 10 attendance samples, whichever comes later', () => {
    // One sample every 30 s: the 10th comes at 270 s; the lane is at 0 from the start.
    const lane: LaneScript = { lane: '1', online: (t) => (t % 30 === 0 ? (t < 200 ? 40 : 0) : null) };
    const { seen } = run({ lanes: [lane] }, 0, 400);
    expect(seen.filter((s) => s.alert.lane === '1' && s.t < 270)).toEqual([]);
    expect(steps(seen, 'attendance.decline', '1')[0]).toEqual([270, 'pending']);
    expect(steps(seen, 'clerk.slow', '1')).toEqual([[270, 'ok']]);
  });
});

describe('suppression', () => {
  const falling: LaneScript = { lane: '1', online: (t) => (t < 600 ? 40 : 20) };

  it('resolves and suppresses a firing alert when its lane closes, and warms up again when it reopens', () => {
    const lane: LaneScript = { ...falling, open: (t) => t < 700 || t >= 800 };
    const { seen } = run({ lanes: [lane] }, 0, 1000);
    expect(steps(seen, 'attendance.decline', '1')).toEqual([
      [120, 'ok'],
      [600, 'pending'],
      [630, 'firing'],
      [700, 'resolved'],
      [700, 'suppressed'],
      [800, 'warmup'],
      // 2 min after reopening; its baseline is still the one from before it closed.
      [920, 'pending'],
      [950, 'firing'],
    ]);
    expect(
      seen.find((s) => s.t === 700 && s.to === 'resolved' && s.alert.rule === 'attendance.decline')?.alert.message,
    ).toBe('Lane 1: online bidders alert resolved (lane closed)');
  });

  it('hides a silenced lane’s alerts, and shows what is still wrong when the silence ends', () => {
    const silence = { sale: 's1', lane: '1', silencedUntil: at(700) };
    const { seen } = run({ lanes: [falling], mutes: (t) => (t >= 620 ? [silence] : []) }, 0, 760);
    expect(steps(seen, 'attendance.decline', '1')).toEqual([
      [120, 'ok'],
      [600, 'pending'],
      [620, 'suppressed'],
      [700, 'firing'],
    ]);
    expect(steps(seen, 'stream.lagging', '1')).toEqual([
      [120, 'ok'],
      [620, 'suppressed'],
      [700, 'ok'],
    ]);
  });

  it('snoozes one firing alert by its key: same episode after the snooze, no new one', () => {
    const key = alertKey('attendance.decline', 'dallas', 's1', { lane: '1' });
    const snooze = { key, snoozedUntil: at(760) };
    const { seen } = run({ lanes: [falling], mutes: (t) => (t >= 640 ? [snooze] : []) }, 0, 800);
    expect(steps(seen, 'attendance.decline', '1')).toEqual([
      [120, 'ok'],
      [600, 'pending'],
      [630, 'firing'],
      [640, 'suppressed'],
      [760, 'firing'],
    ]);
    const snoozed = seen.find((s) => s.to === 'suppressed' && s.alert.rule === 'attendance.decline');
    expect(snoozed?.alert).toMatchObject({
      snoozedUntil: at(760),
      firedAt: at(630),
      message: 'Lane 1: online bidders alert suppressed (snoozed)',
    });
    expect(seen.find((s) => s.t === 760)?.alert.firedAt).toBe(at(630));
    expect(firings(seen, 'stream.lagging', '1')).toEqual([]);
  });

  it('acknowledges only an alert that is out, until it resolves', () => {
    const key = alertKey('attendance.decline', 'dallas', 's1', { lane: '1' });
    const lane: LaneScript = { lane: '1', online: (t) => (t >= 600 && t < 900 ? 20 : 40) };
    const first = run({ lanes: [lane] }, 0, 620);
    expect(acknowledgeAlert(first.state, key, 'Online Manager', at(620))).toBeUndefined();
    const firing = run({ lanes: [lane] }, 621, 700, first.state, first.memory);
    expect(acknowledgeAlert(firing.state, key, 'Online Manager', at(700))).toMatchObject({
      state: 'firing',
      acknowledgedBy: 'Online Manager',
      acknowledgedAt: at(700),
    });
    const resolved = run({ lanes: [lane] }, 701, 1100, firing.state, firing.memory);
    const end = resolved.seen.find((s) => s.alert.key === key && s.to === 'resolved');
    expect(end?.alert.acknowledgedBy).toBeUndefined();
    expect(end?.alert.resolvedAt).toBe(at(980));
  });
});

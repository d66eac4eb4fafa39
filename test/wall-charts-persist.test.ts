/**
 * The wall charts' bands and markers across a restart (server/chart-checkpoint.ts): a server that
 * checkpoints mid-sale and starts again shows the bands and markers it showed, and carries them on
 * as one that never stopped does. A simulated sale drives the sale boards second by second; the
 * pure evaluator stands in for the alert desk, whose state outlives a restart in Redis; each wall
 * feed samples once a second, as the server's live feed does.
 */
import { pino } from 'pino';
import { Server } from 'socket.io';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ALERT_CONFIG } from '../alerts/config';
import { createAlertsState, currentAlerts, evaluateSale } from '../alerts/evaluator';
import { saleSample } from '../alerts/samples';
import type { AlertTransition } from '../alerts/types';
import { simulateSale } from '../collector/sources/simulator';
import { parseChartHistory } from '../server/chart-checkpoint';
import type { ChartHistory } from '../server/chart-feed';
import { EventClock } from '../server/clock';
import { LiveFeed } from '../server/live';
import { DEFAULT_SNAPSHOT_OPTIONS } from '../server/metrics/snapshot';
import { SaleBoard } from '../server/sale-board';
import { WallFeed, type WallAlerts } from '../server/wall-feed';
import type { ChartDelta } from '../server/wire';

const MIN = 60_000;
// Lane 1's online crowd collapses from minute 24 to 36: attendance.decline fires at ~25 and
// resolves at ~37; other lanes' alerts come and go before it.
const sale = simulateSale({
  seed: 3,
  lanes: 4,
  durationMin: 120,
  speed: 1,
  auction: 'restartville',
  start: Date.UTC(2026, 2, 3, 15, 0),
});
const events = [...sale.events()];
const collapse = sale.incidents.find((incident) => incident.kind === 'attendance.collapse');
const COLLAPSE_LANE = collapse?.lane as string;

/** One server instance's part in this: its sale board and its wall feed. */
interface Instance {
  board: SaleBoard;
  wall: WallFeed;
}

/** What a screen shows of each chart ('sale', or a lane): its band and markers. */
type Shown = Record<string, ChartHistory>;

/** The sale played a second at a time into every instance, with one alert desk for them all. */
class SaleRun {
  wallTime = sale.start;
  readonly transitions: AlertTransition[] = [];
  readonly instances: Instance[] = [];
  readonly screens: Screen[] = [];
  private readonly state = createAlertsState();
  readonly alerts: WallAlerts = {
    list: ({ sale: id }) => currentAlerts(this.state, id),
    rules: () => DEFAULT_ALERT_CONFIG,
  };
  private next = 0;

  constructor() {
    this.instances.push(this.instance());
  }

  /** An instance on the run's clock: a sale's now is its newest event plus the wall time since. */
  instance(): Instance {
    const board = new SaleBoard(DEFAULT_SNAPSHOT_OPTIONS, new EventClock(() => this.wallTime));
    return { board, wall: new WallFeed(board, this.alerts) };
  }

  /** Plays on to `minutes` into the sale: each second the server's round — events, tick, alerts, wall. */
  playUntil(minutes: number): void {
    while (this.wallTime < sale.start + minutes * MIN) {
      this.wallTime += 1000;
      for (; this.next < events.length && (events[this.next]?.ts as number) <= this.wallTime; this.next++) {
        for (const { board } of this.instances) board.apply(events[this.next] as (typeof events)[number]);
      }
      for (const { board } of this.instances) board.tick();
      const { sale: state, now } = this.instances[0]?.board.saleState(sale.sale) ?? {};
      if (state && now !== undefined) {
        const sample = saleSample(state, now, DEFAULT_ALERT_CONFIG);
        this.transitions.push(...evaluateSale(this.state, sample, now, { config: DEFAULT_ALERT_CONFIG }));
      }
      for (const { wall } of this.instances) wall.sample();
      for (const screen of this.screens) screen.update();
    }
  }

  /** An instance started from `instance`'s checkpoint: its engine and its wall charts, through their text. */
  restart(instance: Instance): Instance {
    const restarted = this.instance();
    restarted.board.restore(instance.board.checkpoint());
    restarted.wall.restoreChartHistory(instance.wall.chartHistory());
    this.instances.push(restarted);
    return restarted;
  }

  /** The lane's one episode of `rule` (the first), as the desk announced it. */
  episode(rule: string, lane: string): { firedAt: number; resolvedAt: number | undefined } {
    const ofLane = this.transitions.filter((t) => t.alert.rule === rule && t.alert.lane === lane);
    const fired = ofLane.find((t) => t.to === 'firing');
    const resolved = ofLane.find((t) => t.to === 'resolved' && t.at > (fired?.at ?? Infinity));
    return { firedAt: fired?.alert.firedAt as number, resolvedAt: resolved?.at };
  }
}

/** A wall screen on one instance: joins, then applies the deltas it is sent each second. */
class Screen {
  readonly shown: Shown;

  constructor(private readonly instance: Instance) {
    const { sale: state, now } = saleState(instance);
    const { delta } = instance.wall.join(state, now, false);
    this.shown = {};
    this.apply('sale', delta.header?.chart);
    for (const lane of delta.lanes) this.apply(lane.lane, lane.chart);
  }

  update(): void {
    const { sale: state, now } = saleState(this.instance);
    for (const lane of this.instance.wall.lanes(state, now, 0, 1)) this.apply(lane.lane, lane.chart);
    this.apply('sale', this.instance.wall.header(state, now).header?.chart);
  }

  private apply(chart: string, delta: ChartDelta | undefined): void {
    const held = (this.shown[chart] ??= { band: { ts: [], expected: [], declineAt: [] }, markers: [] });
    if (delta?.band) held.band = delta.band;
    if (delta?.markers) held.markers = delta.markers;
  }
}

function saleState(instance: Instance) {
  const state = instance.board.saleState(sale.sale);
  if (!state) throw new Error('the instance has no sale');
  return state;
}

/** What a screen that joins the instance now is shown. */
function joinNow(instance: Instance): Shown {
  return new Screen(instance).shown;
}

function laneFrom(instance: Instance): number {
  return saleState(instance).now - 30 * MIN;
}

describe('wall charts across a restart', () => {
  it('shows a screen that joins after the restart the bands and markers of before', () => {
    const run = new SaleRun();
    const [uninterrupted] = run.instances as [Instance];
    run.playUntil(30);
    const restarted = run.restart(uninterrupted);

    const before = joinNow(uninterrupted);
    const decline = run.episode('attendance.decline', COLLAPSE_LANE);
    expect(decline.firedAt).toBeGreaterThanOrEqual(collapse?.from as number);
    // Something to lose: every lane's band, the collapse's decline still open, alerts that ended.
    expect(new Set(Object.keys(before))).toEqual(new Set(['sale', ...sale.lanes]));
    for (const lane of sale.lanes) expect(before[lane]?.band.ts.length).toBeGreaterThan(20);
    expect(before[COLLAPSE_LANE]?.markers).toContainEqual(
      expect.objectContaining({ rule: 'attendance.decline', from: decline.firedAt, to: null }),
    );
    const ended = Object.values(before).flatMap((chart) => chart.markers.filter((m) => m.to !== null));
    expect(ended.length).toBeGreaterThan(2);
    expect(saleState(restarted).now).toBe(saleState(uninterrupted).now);

    expect(joinNow(restarted)).toEqual(before);
  });

  it('carries them on: the open marker stays one marker and ends when its alert resolves', () => {
    const run = new SaleRun();
    const [uninterrupted] = run.instances as [Instance];
    run.playUntil(30);
    const restarted = run.restart(uninterrupted);
    const screen = new Screen(restarted);
    run.screens.push(screen);
    run.playUntil(40);

    const decline = run.episode('attendance.decline', COLLAPSE_LANE);
    expect(decline.resolvedAt).toBeDefined();
    const markers = joinNow(restarted)[COLLAPSE_LANE]?.markers.filter((m) => m.rule === 'attendance.decline');
    expect(markers).toEqual([
      {
        key: `attendance.decline|restartville|${sale.sale}|lane:${COLLAPSE_LANE}`,
        rule: 'attendance.decline',
        severity: 'warning',
        from: decline.firedAt,
        to: decline.resolvedAt,
      },
    ]);
    // The screen that joined right after the restart was sent every change since.
    expect(joinNow(restarted)).toEqual(joinNow(uninterrupted));
    expect(screen.shown).toEqual(joinNow(uninterrupted));
  });

  it('keeps only what the charts show: a lane chart’s last 30 minutes, the sale chart’s whole sale', () => {
    const run = new SaleRun();
    const [uninterrupted] = run.instances as [Instance];
    run.playUntil(40);
    const at40 = uninterrupted.wall.chartHistory();
    run.playUntil(75);

    const [kept] = parseChartHistory(uninterrupted.wall.chartHistory()).values();
    const from = laneFrom(uninterrupted);
    for (const chart of Object.values(kept?.lanes ?? {})) {
      // The step in force when the chart begins, then the ones after.
      expect(chart.band.ts.slice(1).every((ts) => ts > from)).toBe(true);
      expect(chart.markers.every((m) => m.to === null || m.to >= from)).toBe(true);
    }
    expect(kept?.lanes[COLLAPSE_LANE]?.markers.some((m) => m.rule === 'attendance.decline')).toBe(false);
    expect(kept?.sale.band.ts[0]).toBeLessThan(sale.start + 5 * MIN);

    // A checkpoint older than the window is cut to it as it is restored.
    const late = run.instance();
    late.board.restore(uninterrupted.board.checkpoint());
    late.wall.restoreChartHistory(at40);
    expect(parseChartHistory(at40).get(sale.sale)?.lanes[COLLAPSE_LANE]?.markers).toContainEqual(
      expect.objectContaining({ rule: 'attendance.decline' }),
    );
    const restored = parseChartHistory(late.wall.chartHistory()).get(sale.sale);
    expect(restored?.lanes[COLLAPSE_LANE]?.markers ?? []).not.toContainEqual(
      expect.objectContaining({ rule: 'attendance.decline' }),
    );
    for (const chart of Object.values(restored?.lanes ?? {})) {
      expect(chart.band.ts.slice(1).every((ts) => ts > from)).toBe(true);
    }
  });

  describe('a history it cannot read', () => {
    const run = new SaleRun();
    run.playUntil(30);
    const [original] = run.instances as [Instance];
    const good = original.wall.chartHistory();

    const damaged: [string, string, RegExp][] = [
      ['cut short', good.slice(0, good.length / 2), /JSON/],
      ['of another version', good.replace('"version":1', '"version":0'), /version/],
      ['with a band column short', good.replace(/"declineAt":\[[^\]]*?,/, '"declineAt":['), /band columns differ/],
      ['naming a rule this build lacks', good.replace('"rule":"attendance.decline"', '"rule":"lane.haunted"'), /rule/],
    ];

    /** A live feed started on the original's engine and `wallCharts`: its charts, and what it warned of. */
    function startLiveFeed(wallCharts: string) {
      const warnings: string[] = [];
      const log = pino(
        { level: 'warn' },
        { write: (line: string) => warnings.push((JSON.parse(line) as { msg: string }).msg) },
      );
      const board = new SaleBoard(DEFAULT_SNAPSHOT_OPTIONS, new EventClock(() => run.wallTime));
      board.restore(original.board.checkpoint());
      // Not attached to a port: the feed only needs its namespace.
      const live = new LiveFeed(new Server(), board, log, { alerts: run.alerts, wallCharts });
      return { board, charts: parseChartHistory(live.wallCharts()), warnings };
    }

    it.each(damaged)('refuses one %s whole, saying why', (_, text, reason) => {
      const fresh = run.instance();
      fresh.board.restore(original.board.checkpoint());
      expect(() => fresh.wall.restoreChartHistory(text)).toThrow(reason);
      expect(parseChartHistory(fresh.wall.chartHistory()).size).toBe(0);
    });

    it.each(damaged)(
      'starts the server on one %s all the same: engine restored, charts afresh, a warning',
      (_, text) => {
        const { board, charts, warnings } = startLiveFeed(text);
        expect(warnings).toEqual([
          'the wall charts in the checkpoint cannot be restored; their bands and markers start afresh',
        ]);
        expect(charts.size).toBe(0);
        expect(board.summary(sale.sale)?.offered).toBe(original.board.summary(sale.sale)?.offered);
      },
    );

    it('takes a whole one without a word', () => {
      const { charts, warnings } = startLiveFeed(good);
      expect(warnings).toEqual([]);
      expect(charts.get(sale.sale)).toEqual(parseChartHistory(good).get(sale.sale));
    });
  });
});

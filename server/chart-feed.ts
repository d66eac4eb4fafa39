/**
 * The wall display's charts (../shared/API.md, `wall`), kept on the server so that screens get
 * chart-ready deltas: each lane's online bidders over the last 30 minutes in 15-second buckets, the
 * sale's online bidders (summed over its open lanes) over the whole sale by the minute, the
 * attendance alert's baseline band under each, and the alerts that fired as markers.
 *
 * A lane's points come from the engine's attendance window, so its chart is whole after a restart
 * too. Bands, markers and the sale's sum come from what the alert desk and the engine know at
 * present: `SaleCharts.sample` records them every second for every open sale, watched or not; the
 * sale's sum is seeded from the lanes' windows, bands and markers are kept across a restart in the
 * checkpoint (`SaleCharts.history`, ./chart-checkpoint).
 */
import { declineLevel } from '../alerts/rules/decline';
import type { AlertConfig } from '../alerts/config';
import type { Alert } from '../alerts/types';
import type { SaleState } from './metrics/engine';
import type { LaneState } from './metrics/lane';
import type { AlertMarker, AttendanceSeries, BaselineBand, ChartDelta } from './wire';
import { lowerBound } from './metrics/windows';

const MIN = 60_000;
/** What a lane chart shows: the engine's attendance window. */
export const LANE_CHART_SPAN_MS = 30 * MIN;
/** The sale chart's bucket, and the band's step (the alert baseline moves once a minute at most). */
export const SALE_CHART_STEP_MS = MIN;
const BAND_STEP_MS = MIN;

/** Chart columns of `stepMs` buckets, oldest first, holding the last value seen in each bucket. */
export class Buckets {
  ts: number[] = [];
  online: number[] = [];

  constructor(readonly stepMs: number) {}

  bucketOf(ts: number): number {
    return Math.floor(ts / this.stepMs) * this.stepMs;
  }

  /** Sets the bucket of `ts` (the newest one, or a new one after it) to `value`; true if it changed. */
  set(ts: number, value: number): boolean {
    const bucket = this.bucketOf(ts);
    const last = this.ts.length - 1;
    if (this.ts[last] === bucket) {
      if (this.online[last] === value) return false;
      this.online[last] = value;
      return true;
    }
    if (last >= 0 && (this.ts[last] as number) > bucket) return false;
    this.ts.push(bucket);
    this.online.push(value);
    return true;
  }

  /**
   * Replaces the buckets at or after `from` with `next` (all at or after `from`); returns the time
   * of the first bucket that changed, or null when none did.
   */
  replaceFrom(from: number, next: AttendanceSeries): number | null {
    const start = lowerBound(this.ts, from);
    let same = 0;
    while (
      start + same < this.ts.length &&
      same < next.ts.length &&
      this.ts[start + same] === next.ts[same] &&
      this.online[start + same] === next.online[same]
    ) {
      same++;
    }
    if (start + same === this.ts.length && same === next.ts.length) return null;
    const changedAt = Math.min(this.ts[start + same] ?? Infinity, next.ts[same] ?? Infinity);
    this.ts.splice(start + same, Infinity, ...next.ts.slice(same));
    this.online.splice(start + same, Infinity, ...next.online.slice(same));
    return changedAt;
  }

  trimBefore(from: number): void {
    const start = lowerBound(this.ts, from);
    if (start === 0) return;
    this.ts.splice(0, start);
    this.online.splice(0, start);
  }

  /** The buckets at or after `from`, as a delta's points. */
  since(from: number): AttendanceSeries & { from: number } {
    const start = lowerBound(this.ts, from);
    return { from, ts: this.ts.slice(start), online: this.online.slice(start) };
  }
}

/** What a chart keeps across a restart: its band and markers (its points come back from the engine). */
export interface ChartHistory {
  band: BaselineBand;
  markers: AlertMarker[];
}

/** A sale's chart history: the sale chart's, and each lane chart's that has a band or markers. */
export interface SaleChartHistory {
  sale: ChartHistory;
  lanes: Record<string, ChartHistory>;
}

/** The alert baseline as steps: a new step only when the band moves. */
export class BandSteps {
  /** Counts changes, so a screen's copy can be compared without comparing the arrays. */
  version = 0;

  /** `band`: the steps a checkpoint kept; a new chart has none. */
  constructor(readonly band: BaselineBand = emptyBand()) {}

  record(now: number, expected: number | null, declineAt: number | null): void {
    const { ts, expected: levels, declineAt: lows } = this.band;
    const last = ts.length - 1;
    if (last >= 0 && levels[last] === expected && lows[last] === declineAt) return;
    const step = Math.floor(now / BAND_STEP_MS) * BAND_STEP_MS;
    if (ts[last] === step) {
      levels[last] = expected;
      lows[last] = declineAt;
    } else {
      ts.push(step);
      levels.push(expected);
      lows.push(declineAt);
    }
    this.version++;
  }

  /** Drops the steps that ended before `from` (a step ends where the next begins). */
  trimBefore(from: number): void {
    const { ts, expected, declineAt } = this.band;
    let drop = 0;
    while (drop + 1 < ts.length && (ts[drop + 1] as number) <= from) drop++;
    if (drop === 0) return;
    ts.splice(0, drop);
    expected.splice(0, drop);
    declineAt.splice(0, drop);
    this.version++;
  }
}

/** Alert spans of one chart, by alert key and firing time. */
export class MarkerSet {
  private readonly markers = new Map<string, AlertMarker>();
  version = 0;

  /** `markers`: those a checkpoint kept; an open one goes on as the same marker while its alert fires. */
  constructor(markers: readonly AlertMarker[] = []) {
    for (const marker of markers) this.markers.set(markerId(marker.key, marker.from), { ...marker });
  }

  /**
   * Takes in the chart's alerts as they stand: an open episode (`firedAt`) is a marker from then;
   * a marker whose alert no longer has that episode ends when it resolved (or now, if unsaid).
   */
  record(alerts: readonly Alert[], now: number): void {
    const open = new Set<string>();
    for (const alert of alerts) {
      if (alert.firedAt === undefined) continue;
      const id = markerId(alert.key, alert.firedAt);
      open.add(id);
      if (this.markers.has(id)) continue;
      this.markers.set(id, {
        key: alert.key,
        rule: alert.rule,
        severity: alert.severity,
        from: alert.firedAt,
        to: null,
      });
      this.version++;
    }
    for (const [id, marker] of this.markers) {
      if (marker.to !== null || open.has(id)) continue;
      const resolvedAt = alerts.find((alert) => alert.key === marker.key)?.resolvedAt;
      marker.to = resolvedAt !== undefined && resolvedAt >= marker.from ? resolvedAt : now;
      this.version++;
    }
  }

  trimBefore(from: number): void {
    for (const [id, marker] of this.markers) {
      if (marker.to !== null && marker.to < from) {
        this.markers.delete(id);
        this.version++;
      }
    }
  }

  list(): AlertMarker[] {
    return [...this.markers.values()].map((marker) => ({ ...marker }));
  }
}

/** One sale's bands, markers and summed attendance, recorded every second while it is open. */
export class SaleCharts {
  readonly laneBands = new Map<string, BandSteps>();
  readonly laneMarkers = new Map<string, MarkerSet>();
  readonly saleBand: BandSteps;
  readonly saleMarkers: MarkerSet;
  readonly saleOnline = new Buckets(SALE_CHART_STEP_MS);

  /** `history`: the bands and markers a checkpoint kept, for a sale the restored engine has. */
  constructor(sale: SaleState, now: number, history?: SaleChartHistory) {
    this.seedSaleOnline(sale, now);
    this.saleBand = new BandSteps(history?.sale.band);
    this.saleMarkers = new MarkerSet(history?.sale.markers);
    for (const [lane, chart] of Object.entries(history?.lanes ?? {})) {
      this.laneBands.set(lane, new BandSteps(chart.band));
      this.laneMarkers.set(lane, new MarkerSet(chart.markers));
    }
    this.trimLanes(now);
  }

  /**
   * Records the present (called once a second per open sale): the sale's summed online bidders,
   * and from the alerts — every alert of the sale as the desk lists it — each lane's and the sale's
   * baseline band and markers. A feed connection's alerts are the sale's markers.
   */
  sample(sale: SaleState, now: number, alerts: readonly Alert[], config: AlertConfig): void {
    const decline = config['attendance.decline'];
    this.saleOnline.set(now, sale.attendance.current);
    const byLane = new Map<string, Alert[]>();
    const saleWide: Alert[] = [];
    for (const alert of alerts) {
      if (alert.lane === undefined) saleWide.push(alert);
      else getOrAdd(byLane, alert.lane, Array<Alert>).push(alert);
      if (alert.rule !== 'attendance.decline') continue;
      const expected = alert.figures.baseline ?? null;
      const thresholds = alert.lane === undefined ? decline.sale : decline.lane;
      const band = alert.lane === undefined ? this.saleBand : getOrAdd(this.laneBands, alert.lane, BandSteps);
      band.record(now, expected, expected === null ? null : declineLevel(expected, thresholds));
    }
    for (const lane of sale.lanes.keys()) {
      getOrAdd(this.laneMarkers, lane, MarkerSet).record(byLane.get(lane) ?? [], now);
    }
    this.trimLanes(now);
    this.saleMarkers.record(saleWide, now);
  }

  /**
   * The bands and markers, for the restart checkpoint: only what the charts show — a lane's last
   * 30 minutes (kept so by `sample`), the sale's whole sale.
   */
  history(): SaleChartHistory {
    const lanes: Record<string, ChartHistory> = {};
    for (const lane of new Set([...this.laneBands.keys(), ...this.laneMarkers.keys()])) {
      const band = copyBand(this.laneBands.get(lane)?.band ?? emptyBand());
      const markers = this.laneMarkers.get(lane)?.list() ?? [];
      if (band.ts.length > 0 || markers.length > 0) lanes[lane] = { band, markers };
    }
    return { sale: { band: copyBand(this.saleBand.band), markers: this.saleMarkers.list() }, lanes };
  }

  /** Drops what the lane charts no longer show: band steps and markers that ended before their 30 minutes. */
  private trimLanes(now: number): void {
    const laneFrom = now - LANE_CHART_SPAN_MS;
    for (const markers of this.laneMarkers.values()) markers.trimBefore(laneFrom);
    for (const band of this.laneBands.values()) band.trimBefore(laneFrom);
  }

  /** The sale's sum at each minute of the lanes' windows: a sale chart is whole from its first look. */
  private seedSaleOnline(sale: SaleState, now: number): void {
    const from = this.saleOnline.bucketOf(Math.max(sale.openedAt, now - LANE_CHART_SPAN_MS));
    const lanes = [...sale.lanes.values()].map((lane) => readings(lane, from - LANE_CHART_SPAN_MS, now));
    for (let bucket = from; bucket <= now; bucket += SALE_CHART_STEP_MS) {
      const end = Math.min(bucket + SALE_CHART_STEP_MS - 1, now);
      let sum = 0;
      for (const lane of lanes) {
        while (lane.next < lane.ts.length && (lane.ts[lane.next] as number) <= end) lane.next++;
        sum += lane.next > 0 ? (lane.online[lane.next - 1] as number) : 0;
      }
      this.saleOnline.set(bucket, sum);
    }
  }
}

/** What a sale's screens hold of one chart: its points and which band and markers they got. */
export class SentChart {
  bandVersion = -1;
  markersVersion = -1;

  constructor(readonly points: Buckets) {}

  /**
   * Brings the screens' copy up to date and returns what changed, or undefined when nothing did.
   * `next` gives the chart's points at or after a bucket time, for the window ending at `end`.
   */
  update(
    window: ChartDelta['window'],
    next: (from: number) => AttendanceSeries,
    band: BandSteps | undefined,
    markers: MarkerSet | undefined,
  ): ChartDelta | undefined {
    const { points } = this;
    points.trimBefore(window.from);
    // The last two buckets are read again: a late sample may still change the one before the newest.
    const redoFrom = points.ts.length < 2 ? window.from : (points.ts[points.ts.length - 2] as number);
    const changedAt = points.replaceFrom(redoFrom, next(redoFrom));
    const delta: ChartDelta = { window };
    if (changedAt !== null) delta.points = points.since(changedAt);
    if (band && band.version !== this.bandVersion) {
      this.bandVersion = band.version;
      delta.band = copyBand(band.band);
    }
    if (markers && markers.version !== this.markersVersion) {
      this.markersVersion = markers.version;
      delta.markers = markers.list();
    }
    return delta.points || delta.band || delta.markers ? delta : undefined;
  }

  /** Everything the screens hold, points from `from` on: for a screen that starts watching. */
  whole(window: ChartDelta['window'], from: number, band: BandSteps | undefined, markers: MarkerSet | undefined) {
    const delta: ChartDelta = { window, points: this.points.since(Math.max(from, window.from)) };
    delta.band = copyBand(band?.band ?? emptyBand());
    delta.markers = markers?.list() ?? [];
    return delta;
  }
}

function readings(lane: LaneState, from: number, to: number) {
  const ts: number[] = [];
  const online: number[] = [];
  lane.attendance.forEachBetween(from, to + 1, (value, at) => {
    ts.push(at);
    online.push(value);
  });
  return { ts, online, next: 0 };
}

function emptyBand(): BaselineBand {
  return { ts: [], expected: [], declineAt: [] };
}

function copyBand(band: BaselineBand): BaselineBand {
  return { ts: [...band.ts], expected: [...band.expected], declineAt: [...band.declineAt] };
}

/** A marker is one episode of one alert: its key and the time it fired. */
function markerId(key: string, firedAt: number): string {
  return `${key}@${firedAt}`;
}

function getOrAdd<T>(map: Map<string, T>, key: string, make: new () => T): T {
  let value = map.get(key);
  if (value === undefined) map.set(key, (value = new make()));
  return value;
}

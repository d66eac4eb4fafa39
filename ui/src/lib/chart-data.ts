/**
 * One chart as a screen holds it: the server's columns (`ts`, `online`), ready for uPlot's
 * `setData`, plus the baseline band, the alert markers and the span shown. It only applies what
 * the server sends (server/chart-feed.ts): points replace the ones from their `from` on, a band or
 * marker list replaces the old one, points that left the window are dropped.
 */
import type { AlertMarker, BaselineBand, ChartDelta } from '../../../server/wire';
import { lowerBound } from '../../../server/metrics/windows';

export class ChartData {
  ts: number[] = [];
  online: number[] = [];
  band: BaselineBand = { ts: [], expected: [], declineAt: [] };
  markers: AlertMarker[] = [];
  window: ChartDelta['window'] = { from: 0, to: 0 };

  apply(delta: ChartDelta): void {
    this.window = delta.window;
    if (delta.points) this.replaceFrom(delta.points.from, delta.points.ts, delta.points.online);
    const before = lowerBound(this.ts, delta.window.from);
    if (before > 0) {
      this.ts.splice(0, before);
      this.online.splice(0, before);
    }
    if (delta.band) this.band = delta.band;
    if (delta.markers) this.markers = delta.markers;
  }

  /** History points (`[ts, online]`, oldest first) replacing the ones from `from` on: a backfill. */
  fill(from: number, points: readonly [number, number][]): void {
    this.replaceFrom(
      from,
      points.map(([ts]) => ts),
      points.map(([, online]) => online),
    );
  }

  /** The newest point's time, if any. */
  get lastTs(): number | undefined {
    return this.ts.at(-1);
  }

  private replaceFrom(from: number, ts: readonly number[], online: readonly number[]): void {
    const start = lowerBound(this.ts, from);
    this.ts.splice(start, Infinity, ...ts);
    this.online.splice(start, Infinity, ...online);
  }
}

/**
 * An attendance chart drawn with uPlot: the online bidders as a line over the server's window, the
 * alert baseline band (expected level down to where a decline begins) and alert markers behind it.
 * One uPlot per chart, made once; `update()` hands it the chart's current columns (`setData`), and
 * `destroy()` ends it. Only drawing happens here — the scale mapping uPlot does for every chart —
 * every value comes from the server.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { ChartData } from './chart-data';

// Canvas colours cannot follow CSS variables, so they restate the palette of app.css.
const LINE = '#38bdf8';
const FILL = 'rgba(56, 189, 248, 0.16)';
const BAND = 'rgba(147, 164, 184, 0.22)';
const EXPECTED = 'rgba(238, 243, 248, 0.55)';
const MARKER = { warning: 'rgba(250, 204, 21, 0.22)', critical: 'rgba(248, 113, 113, 0.28)' };
const MARKER_EDGE = { warning: '#facc15', critical: '#f87171' };
/** Room above the highest line or band, so neither touches the top. */
const HEADROOM = 1.12;
/** The y scale never ends below this many bidders: a quiet lane is not drawn as a cliff. */
const MIN_TOP = 5;

export interface AttendancePlot {
  /** Redraws from the chart's data as it is now. */
  update(): void;
  destroy(): void;
}

export function attendancePlot(container: HTMLElement, chart: ChartData, lineWidth: number): AttendancePlot {
  const { width, height } = container.getBoundingClientRect();
  const plot = new uPlot(
    {
      width: Math.max(1, width),
      height: Math.max(1, height),
      ms: 1,
      pxAlign: 0,
      padding: [4, 0, 0, 0],
      legend: { show: false },
      cursor: { show: false },
      select: { show: false, left: 0, top: 0, width: 0, height: 0 },
      axes: [{ show: false }, { show: false }],
      scales: {
        x: { time: true, range: () => [chart.window.from, chart.window.to] },
        y: { range: (_u, _min, max) => [0, Math.max(MIN_TOP, max, ...bandLevels(chart)) * HEADROOM] },
      },
      series: [{}, { stroke: LINE, fill: FILL, width: lineWidth, points: { show: false } }],
      hooks: { drawClear: [(u) => drawBackground(u, chart)] },
    },
    [chart.ts, chart.online],
    container,
  );
  const resize = new ResizeObserver(([entry]) => {
    if (!entry) return;
    const size = { width: Math.max(1, entry.contentRect.width), height: Math.max(1, entry.contentRect.height) };
    if (size.width !== plot.width || size.height !== plot.height) plot.setSize(size);
  });
  resize.observe(container);
  return {
    update: () => plot.setData([chart.ts, chart.online]),
    destroy: () => {
      resize.disconnect();
      plot.destroy();
    },
  };
}

function bandLevels(chart: ChartData): number[] {
  return chart.band.expected.filter((level): level is number => level !== null);
}

/** The band, then the markers, under the line; clipped to the plotting area. */
function drawBackground(u: uPlot, chart: ChartData): void {
  const { ctx, bbox } = u;
  const { from, to } = chart.window;
  const x = (ts: number) => u.valToPos(Math.min(Math.max(ts, from), to), 'x', true);
  const y = (value: number) => u.valToPos(value, 'y', true);
  ctx.save();
  ctx.beginPath();
  ctx.rect(bbox.left, bbox.top, bbox.width, bbox.height);
  ctx.clip();

  const { ts, expected, declineAt } = chart.band;
  ctx.strokeStyle = EXPECTED;
  ctx.lineWidth = Math.max(1, devicePixelRatio);
  ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
  for (let i = 0; i < ts.length; i++) {
    const level = expected[i];
    const start = ts[i] as number;
    const end = ts[i + 1] ?? to;
    if (level === null || level === undefined || end <= from || start >= to) continue;
    const [left, right] = [x(start), x(end)];
    const low = declineAt[i];
    if (low !== null && low !== undefined) {
      ctx.fillStyle = BAND;
      ctx.fillRect(left, y(level), right - left, y(low) - y(level));
    }
    ctx.beginPath();
    ctx.moveTo(left, y(level));
    ctx.lineTo(right, y(level));
    ctx.stroke();
  }
  ctx.setLineDash([]);

  for (const marker of chart.markers) {
    const end = marker.to ?? to;
    if (end < from || marker.from > to) continue;
    const [left, right] = [x(marker.from), x(end)];
    ctx.fillStyle = MARKER[marker.severity];
    ctx.fillRect(left, bbox.top, Math.max(right - left, devicePixelRatio), bbox.height);
    if (marker.from >= from) {
      ctx.fillStyle = MARKER_EDGE[marker.severity];
      ctx.fillRect(left, bbox.top, 2 * devicePixelRatio, bbox.height);
    }
  }
  ctx.restore();
}

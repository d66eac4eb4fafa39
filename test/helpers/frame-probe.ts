/**
 * Measures, inside Chromium, what each screen update costs the page's main thread. The wall display
 * applies the server's changes in `requestAnimationFrame` callbacks (ui/src/lib/frame-queue.ts) and
 * nothing else of it uses one, so the probe wraps them: an update's time runs from the callback's
 * start until a message posted from it is delivered — after the frame's style, layout and paint,
 * which run on the main thread between the two. Long tasks (> 50 ms) are collected by a
 * PerformanceObserver, with the long animation frames that say what each one spent its time on;
 * CDP's Performance metrics give the whole main thread's busy time as a peer.
 */
import type { CDPSession, Page } from 'playwright-core';
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../../server/wire';
import { SCREEN_UPDATE_MARK } from '../../ui/src/lib/frame-queue';

/**
 * Installed before the page's own scripts (`page.addInitScript`). Kept as text: it runs in the page.
 * Each update also records how many lane changes it applied: the page marks every screen update
 * with them (`SCREEN_UPDATE_MARK`, ui/src/lib/live.svelte.ts), keeping only the newest mark.
 */
const PROBE = `(() => {
  const probe = { updates: [], longTasks: [], longFrames: [] };
  window.__frameProbe = probe;
  const channel = new MessageChannel();
  let started = [];
  channel.port1.onmessage = () => {
    const end = performance.now();
    for (const { start, laneChanges } of started) probe.updates.push({ ms: end - start, laneChanges });
    started = [];
  };
  const raf = window.requestAnimationFrame.bind(window);
  window.requestAnimationFrame = (callback) =>
    raf((time) => {
      const start = performance.now();
      try {
        callback(time);
      } finally {
        const mark = performance.getEntriesByName(${JSON.stringify(SCREEN_UPDATE_MARK)}, 'mark').at(-1);
        performance.clearMarks(${JSON.stringify(SCREEN_UPDATE_MARK)});
        started.push({ start, laneChanges: mark?.detail?.laneChanges ?? 0 });
        channel.port2.postMessage(0);
      }
    });
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) probe.longTasks.push(entry.duration);
  }).observe({ type: 'longtask', buffered: true });
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.duration <= 50) continue;
      const end = entry.startTime + entry.duration;
      probe.longFrames.push({
        ms: entry.duration,
        blockingMs: entry.blockingDuration,
        renderMs: entry.renderStart > 0 ? end - entry.renderStart : 0,
        scripts: entry.scripts.map((script) => ({ invoker: script.invoker, ms: script.duration })),
      });
    }
  }).observe({ type: 'long-animation-frame', buffered: true });
})();`;

/** One screen update: its main-thread time, from its frame callback to the end of its rendering. */
export interface ScreenUpdate {
  ms: number;
  /** The lane changes it applied (0: only the header, the totals or the ages changed). */
  laneChanges: number;
}

/** A long animation frame, as Chromium's `long-animation-frame` entry breaks it down. */
export interface LongFrame {
  ms: number;
  /** The part of its long tasks over 50 ms each: 0 when the frame only waited. */
  blockingMs: number;
  /** Style, layout and paint at its end. */
  renderMs: number;
  /** The scripts over 5 ms it ran, by what called them. */
  scripts: { invoker: string; ms: number }[];
}

export interface FrameReport {
  /** Every screen update since the last `reset`. */
  updates: ScreenUpdate[];
  /** Durations of the tasks over 50 ms since the last `reset`. */
  longTasks: number[];
  /** The animation frames over 50 ms since the last `reset`: where a long task's time went. */
  longFrames: LongFrame[];
  /** CDP: main-thread busy time (all tasks) since the last `reset`, ms. */
  taskMs: number;
  /** CDP: JS heap in use after a forced garbage collection, bytes. */
  heapBytes: number;
}

export interface FrameProbe {
  /** Forgets what was measured so far (a warm-up). */
  reset(): Promise<void>;
  read(): Promise<FrameReport>;
}

export async function installFrameProbe(page: Page): Promise<FrameProbe> {
  await page.addInitScript(PROBE);
  const cdp: CDPSession = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const taskSeconds = async () => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    return metrics.find((metric) => metric.name === 'TaskDuration')?.value ?? 0;
  };
  let taskBase = 0;
  return {
    async reset() {
      await page.evaluate(
        'window.__frameProbe.updates = []; window.__frameProbe.longTasks = []; window.__frameProbe.longFrames = [];',
      );
      taskBase = await taskSeconds();
    },
    async read() {
      const { updates, longTasks, longFrames } = (await page.evaluate('window.__frameProbe')) as Omit<
        FrameReport,
        'taskMs' | 'heapBytes'
      >;
      const taskMs = ((await taskSeconds()) - taskBase) * 1000;
      await cdp.send('HeapProfiler.collectGarbage');
      const { usedSize } = await cdp.send('Runtime.getHeapUsage');
      return { updates, longTasks, longFrames, taskMs, heapBytes: usedSize };
    },
  };
}

/** Nearest-rank percentile, as METRICS.md counts them. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/**
 * The figures of a run's screen updates: their main-thread time (p50, p99, max), and the same
 * time per lane change — each update's time shared by the lane changes it applied, one value per
 * lane change — the cost of one lane's update as the wall pays it.
 */
export function updateFigures(updates: readonly ScreenUpdate[]) {
  const ms = updates.map((update) => update.ms);
  const perLaneChange = updates.flatMap(({ ms, laneChanges }) => Array<number>(laneChanges).fill(ms / laneChanges));
  return {
    screen: { p50: percentile(ms, 50), p99: percentile(ms, 99), max: Math.max(...ms) },
    perLaneChange: { p50: percentile(perLaneChange, 50), p99: percentile(perLaneChange, 99) },
    lanesPerUpdate: perLaneChange.length / updates.length,
  };
}

/**
 * Counts the `wall` messages a sale's wall screens get, and the lane changes in them, with a
 * screen of its own in the same room: what the server sent, counted outside the page so the count
 * costs the page nothing.
 */
export async function countWallMessages(url: string, sale: string): Promise<WallCount> {
  const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(`${url}/live`, { transports: ['websocket'] });
  let messages = 0;
  const lanes = new Map<string, number>();
  socket.on('wall', (delta) => {
    messages++;
    for (const { lane } of delta.lanes) lanes.set(lane, (lanes.get(lane) ?? 0) + 1);
  });
  await new Promise<void>((resolve, reject) => {
    socket.on('connect', () =>
      socket.emit('watch', { sale, view: 'wall' }, (reply) => (reply.ok ? resolve() : reject(new Error(reply.error)))),
    );
  });
  return { read: () => ({ messages, lanes: new Map(lanes) }), close: () => void socket.close() };
}

export interface WallCount {
  read(): { messages: number; lanes: Map<string, number> };
  close(): void;
}

/**
 * The floor under any update on this page: the main-thread time of frames that change a single
 * character of one element and nothing else (the page must be quiet: no other updates coming).
 * Same measure as the probe's; returns the median of `frames` such frames.
 */
export async function singleChangeFloorMs(page: Page, selector: string, frames = 60): Promise<number> {
  const samples = (await page.evaluate(`new Promise((resolve) => {
    const element = document.querySelector(${JSON.stringify(selector)});
    const channel = new MessageChannel();
    const samples = [];
    let start = 0;
    const step = () => requestAnimationFrame(() => {
      start = performance.now();
      element.textContent = String(samples.length % 90 + 10);
      channel.port2.postMessage(0);
    });
    channel.port1.onmessage = () => {
      samples.push(performance.now() - start);
      if (samples.length < ${frames}) setTimeout(step, 30);
      else resolve(samples);
    };
    step();
  })`)) as number[];
  return percentile(samples, 50);
}

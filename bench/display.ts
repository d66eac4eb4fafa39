/**
 * `npm run bench:display` — the wall display in Debian's Chromium (headless, as the tests run it),
 * fed by the real `/live` feed over a simulated sale (test/helpers/wall-server.ts; no stores):
 *
 * 1. Main-thread time per update for 8, 24 and 48 lanes at 1080p, the sale at 10× so every lane's
 *    tile and chart change every second. An update is a lane's change, as the server sends it (at
 *    most one a second per lane); the wall applies them in paced screen updates (ui/src/lib/
 *    frame-queue.ts), so each screen update's time — from its frame callback to the end of its
 *    rendering (test/helpers/frame-probe.ts) — is shared by the lane changes it applied. Printed
 *    too: the screen updates themselves, and the page's whole main-thread time (CDP TaskDuration)
 *    per lane change as the peer that also counts what falls outside the frames.
 * 2. Heap: 48 lanes of a sale played at 60×, the page's JS heap after a forced collection at 10
 *    minutes of sale, at 30 (the charts' windows full), 60 and after 2 hours, with its DOM nodes.
 *
 * The machine's load average is printed with each figure: the runs share two cores with others.
 */
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM } from '../test/helpers/browser';
import { countWallMessages, installFrameProbe, singleChangeFloorMs, updateFigures } from '../test/helpers/frame-probe';
import { startWallServer } from '../test/helpers/wall-server';

const MEASURE_MS = Number(process.env.BENCH_DISPLAY_SECONDS ?? 45) * 1000;
const WARM_MS = 5000;
const TARGET_P99_MS = 4;
const HEAP_SPEED = 60;

const browser = await chromium.launch(CHROMIUM);
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

console.log(
  `\ndisplay benchmark — ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, ` +
    `Chromium ${browser.version()} (headless, --disable-gpu), Node ${process.version}`,
);
try {
  console.log(`  main thread per update, 1080p, each lane changing every second, ${MEASURE_MS / 1000} s each:`);
  for (const lanes of [8, 24, 48]) {
    const run = await measureUpdates(browser, lanes);
    console.log(
      `    ${String(lanes).padStart(2)} lanes: per lane change p50 ${run.perLaneChange.p50.toFixed(2)} ms, ` +
        `p99 ${run.perLaneChange.p99.toFixed(2)} ms (target p99 < ${TARGET_P99_MS} ms: ` +
        `${(run.perLaneChange.p99 / TARGET_P99_MS).toFixed(2)} of it); all main-thread time per lane change ` +
        `${run.perLaneUpdate.toFixed(2)} ms\n` +
        `              per screen update p50 ${run.screen.p50.toFixed(1)} ms, p99 ${run.screen.p99.toFixed(1)} ms, ` +
        `max ${run.screen.max.toFixed(1)} ms (${run.lanesPerUpdate.toFixed(1)} lane changes each); ` +
        `floor (a frame changing one number) p50 ${run.floor.toFixed(1)} ms; tasks > 50 ms: ${run.longTasks}; load ${run.load}`,
    );
  }
  const heap = await measureHeap(browser);
  console.log(`  heap, 48 lanes at ${HEAP_SPEED}×, after a forced collection (target flat):`);
  for (const { minute, heapBytes, nodes, load: at } of heap) {
    console.log(
      `    ${String(minute).padStart(3)} min of sale: ${(heapBytes / 1e6).toFixed(2)} MB JS heap, ${nodes} DOM nodes; load ${at}`,
    );
  }
  const [tenMin, halfHour, , twoHours] = heap as [Sample, Sample, Sample, Sample];
  const ratio = (a: Sample, b: Sample) => (a.heapBytes / b.heapBytes).toFixed(2);
  console.log(`    2 h ÷ 10 min: ${ratio(twoHours, tenMin)}; 2 h ÷ 30 min: ${ratio(twoHours, halfHour)}`);
} finally {
  await browser.close();
}

async function measureUpdates(browser: Browser, lanes: number) {
  const server = await startWallServer({ lanes, speed: 10, warmMin: 35 });
  const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  try {
    const probe = await installFrameProbe(page);
    const wall = await countWallMessages(server.url, server.sale.sale);
    await page.goto(`${server.url}/`);
    await page
      .locator('[data-testid=lane-tile]')
      .nth(lanes - 1)
      .waitFor({ timeout: 30_000 });
    await sleep(WARM_MS);
    await probe.reset();
    const before = wall.read();
    await sleep(MEASURE_MS);
    const report = await probe.read();
    const after = wall.read();
    wall.close();
    // The page's floor: with the sale paused, frames that change one number and nothing else.
    await server.pause();
    await sleep(1500);
    const floor = await singleChangeFloorMs(page, '[data-testid=online-bidders]');
    const laneUpdates = [...after.lanes].reduce((sum, [lane, n]) => sum + n - (before.lanes.get(lane) ?? 0), 0);
    return {
      ...updateFigures(report.updates),
      perLaneUpdate: report.taskMs / laneUpdates,
      longTasks: report.longTasks.length,
      floor,
      load: load(),
    };
  } finally {
    await page.close();
    await server.stop();
  }
}

interface Sample {
  minute: number;
  heapBytes: number;
  nodes: number;
  load: string;
}

async function measureHeap(browser: Browser): Promise<Sample[]> {
  const server = await startWallServer({ lanes: 48, speed: HEAP_SPEED, warmMin: 0, durationMin: 240 });
  const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  try {
    const probe = await installFrameProbe(page);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    await page.goto(`${server.url}/`);
    const samples: Sample[] = [];
    for (const minute of [10, 30, 60, 120]) {
      // Sale time runs at 60×: a minute of sale a second.
      const due = server.sale.start + minute * 60_000;
      while (server.latestTs() < due) await sleep(200);
      const { heapBytes } = await probe.read();
      const { metrics } = await cdp.send('Performance.getMetrics');
      const nodes = metrics.find((metric) => metric.name === 'Nodes')?.value ?? NaN;
      samples.push({ minute, heapBytes, nodes, load: load() });
    }
    return samples;
  } finally {
    await page.close();
    await server.stop();
  }
}

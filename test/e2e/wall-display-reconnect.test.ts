/**
 * The wall display through a network cut, in Chromium, on the whole real pipeline: the screen's
 * connection to the server goes through a relay the test cuts. While it is cut the screen says so
 * and ages its figures on its own clock (the page's clock is moved on, so the marks at 30 and 60 s
 * come at once); its charts keep what they had. Back on the network it fills each chart's gap from
 * the history API before it lets the live changes in.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type Browser, type Page, type Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type RunningCollector } from '../../collector/collector';
import { SimulatorSource, simulateSale } from '../../collector/sources/simulator';
import { startServer, type RunningServer } from '../../server/server';
import { CHROMIUM, requireBuiltUi, signInViewer } from '../helpers/browser';
import { relayTo, type NetworkCut } from '../helpers/network-cut';
import { dropStores, eventually, isolatedConfig, quietLog } from '../helpers/stores';

const LANES = 4;
/** History is recorded once a wall second: at 5× a point per 5 s of sale, three in every chart bucket. */
const SPEED = 5;
const STEP_MS = 15_000;
/** Longer than the minute of sale time the server resends after a resume, so history has to fill the rest. */
const CUT_MS = 20_000;

const config = isolatedConfig();
const sale = simulateSale({
  seed: 13,
  lanes: LANES,
  durationMin: 240,
  speed: SPEED,
  auction: 'dallas',
  start: undefined,
});

let server: RunningServer;
let collector: RunningCollector;
let relay: NetworkCut;
let browser: Browser;
let page: Page;

interface ChartHeld {
  points: number;
  first: number;
  last: number;
}

beforeAll(async () => {
  requireBuiltUi('index.html');
  server = await startServer(config, quietLog);
  collector = await startCollector(config, [{ source: new SimulatorSource(sale, SPEED) }], quietLog);
  relay = await relayTo(server.port);
  browser = await chromium.launch(CHROMIUM);
  const url = `http://127.0.0.1:${relay.port}/`;
  const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
  await signInViewer(context, config, url);
  page = await context.newPage();
  // The page's timers and clocks run on as usual until the test moves them on.
  await page.clock.install();
  await page.goto(url);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await relay?.close();
  await collector?.stop();
  await server?.stop();
  await dropStores(config);
});

async function connection(): Promise<string | null> {
  return page.locator('[data-testid=connection-status]').getAttribute('data-state');
}

async function staleness(): Promise<(string | undefined)[]> {
  return page.locator('[data-testid=lane-tile]').evaluateAll((tiles) => tiles.map((tile) => tile.dataset.staleness));
}

async function laneCharts(): Promise<ChartHeld[]> {
  return page.locator('[data-testid=lane-tile] [data-testid=attendance-chart]').evaluateAll((charts) =>
    charts.map((chart) => ({
      points: Number(chart.dataset.points),
      first: Number(chart.dataset.first),
      last: Number(chart.dataset.last),
    })),
  );
}

describe('wall display through a network cut', () => {
  let cutAt = 0;
  let held: ChartHeld[] = [];

  it('shows every lane live, with its chart', { timeout: 90_000 }, async () => {
    // Lanes open within a sale's first 3 minutes; this sale's four within 80 s (16 s at 5×).
    await page
      .locator('[data-testid=lane-tile]')
      .nth(LANES - 1)
      .waitFor({ timeout: 60_000 });
    await expect.poll(connection, { timeout: 10_000 }).toBe('connected');
    await eventually(async () => ((await laneCharts()).every((chart) => chart.points >= 6) ? true : undefined), 40_000);
    expect(await staleness()).toEqual(Array(LANES).fill('fresh'));
  });

  it('says when the server is gone, and marks the figures late, greyed from 30 s and in a banner from 60 s', async () => {
    relay.cut();
    cutAt = Date.now();
    await expect.poll(connection, { timeout: 10_000 }).toBe('reconnecting');
    held = await laneCharts();
    await page.clock.fastForward(16_000);
    await expect.poll(connection).toBe('disconnected');
    await page.clock.fastForward(15_000);
    await expect.poll(staleness).toEqual(Array(LANES).fill('grey'));
    expect(await page.locator('[data-testid=stale-badge]').count()).toBe(LANES);
    expect(await page.locator('[data-testid=stale-banner]').innerText()).toContain('No contact with the server');
    await page.clock.fastForward(30_000);
    await expect.poll(staleness).toEqual(Array(LANES).fill('lost'));
    // Charts are never blanked: each still shows what it had.
    expect(await laneCharts()).toEqual(held);
  });

  it(
    'fills each chart’s gap from history after reconnecting, before live changes go on',
    { timeout: 60_000 },
    async () => {
      const requests: URL[] = [];
      const answered: [number, number][][] = [];
      page.on('response', async (response) => {
        if (!response.url().includes('/history?')) return;
        answered.push(((await response.json()) as { points: [number, number][] }).points);
      });
      // History answers wait until the test has seen the live changes wait for them.
      const waiting: Route[] = [];
      await page.route('**/api/sales/*/lanes/*/history?*', (route) => {
        requests.push(new URL(route.request().url()));
        waiting.push(route);
      });
      await sleep(Math.max(0, CUT_MS - (Date.now() - cutAt)));
      relay.restore();

      await expect.poll(() => requests.length, { timeout: 15_000 }).toBe(LANES);
      // Each asks from its chart's last point up to where the live points begin.
      const lastHeld = new Set(held.map((chart) => String(chart.last)));
      for (const request of requests) {
        expect(request.searchParams.get('metric')).toBe('onlineBidders');
        expect(request.searchParams.get('step')).toBe('15s');
        expect(lastHeld.has(request.searchParams.get('from') as string)).toBe(true);
        const span = Number(request.searchParams.get('to')) - Number(request.searchParams.get('from'));
        expect(span).toBeGreaterThan(STEP_MS);
      }
      // Connected again, the live changes arrive — and wait for the history.
      await expect.poll(connection).toBe('connected');
      await sleep(1500);
      expect(await laneCharts()).toEqual(held);

      for (const route of waiting) await route.continue();
      await expect.poll(staleness, { timeout: 10_000 }).toEqual(Array(LANES).fill('fresh'));
      expect(await page.locator('[data-testid=stale-banner]').count()).toBe(0);
      expect(answered.every((points) => points.length > 0)).toBe(true);
      const after = await laneCharts();
      after.forEach((chart, i) => {
        expect(chart.last).toBeGreaterThan((held[i] as ChartHeld).last + STEP_MS);
        // One point per bucket from the first to the last: the cut left no hole.
        expect(chart.points).toBe((chart.last - chart.first) / STEP_MS + 1);
      });
    },
  );
});

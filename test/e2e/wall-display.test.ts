/**
 * The wall display in Debian's Chromium, fed by the whole real pipeline: every lane gets a tile,
 * its numbers move as the sale goes on, and a screenshot is kept with the test output.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type RunningCollector } from '../../collector/collector';
import { SimulatorSource, simulateSale } from '../../collector/sources/simulator';
import { startServer, type RunningServer } from '../../server/server';
import { CHROMIUM, OUTPUT, requireBuiltUi } from '../helpers/browser';
import { dropStores, eventually, isolatedConfig, quietLog } from '../helpers/stores';

const LANES = 8;
const SPEED = 30;

const config = isolatedConfig();
const sale = simulateSale({
  seed: 3,
  lanes: LANES,
  durationMin: 240,
  speed: SPEED,
  auction: 'dallas',
  start: undefined,
});

let server: RunningServer;
let collector: RunningCollector;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  requireBuiltUi('index.html');
  server = await startServer(config, quietLog);
  collector = await startCollector(config, [{ source: new SimulatorSource(sale, SPEED) }], quietLog);
  browser = await chromium.launch(CHROMIUM);
  page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  await page.goto(`http://127.0.0.1:${server.port}/`);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await collector?.stop();
  await server?.stop();
  await dropStores(config);
});

async function onlineBidders(): Promise<string[]> {
  return page.locator('[data-testid=lane-tile] [data-testid=online-bidders]').allInnerTexts();
}

describe('wall display', () => {
  it('shows a tile for every lane of the newest open sale, in lane order', async () => {
    await page
      .locator('[data-testid=lane-tile]')
      .nth(LANES - 1)
      .waitFor({ timeout: 20_000 });
    const lanes = await page
      .locator('[data-testid=lane-tile]')
      .evaluateAll((tiles) => tiles.map((t) => t.getAttribute('data-lane')));
    expect(lanes).toEqual(sale.lanes);
    await expect
      .poll(() => page.locator('[data-testid=connection-status]').getAttribute('data-state'))
      .toBe('connected');
    await expect.poll(() => page.locator('[data-testid=sale-header]').innerText()).toContain(sale.name);
  });

  it('shows numbers that change as the sale goes on', async () => {
    // Wait for every lane's first attendance sample, then for the counts to move.
    const first = await eventually(async () => {
      const values = await onlineBidders();
      return values.length === LANES && values.every((v) => /^\d+$/.test(v.trim())) ? values : undefined;
    }, 20_000);
    const later = await eventually(async () => {
      const values = await onlineBidders();
      return values.filter((v, i) => v !== first[i]).length >= LANES / 2 ? values : undefined;
    }, 20_000);
    expect(later).not.toEqual(first);
    const carsPerHour = await eventually(async () => {
      const values = await page.locator('[data-testid=cars-per-hour]').allInnerTexts();
      return values.some((v) => /^\d+$/.test(v.trim())) ? values : undefined;
    }, 30_000);
    expect(carsPerHour).toHaveLength(LANES);
  });

  it('fits every tile on a 1920×1080 screen without scrolling, and keeps a screenshot', async () => {
    const overflow = await page.evaluate(() => ({
      vertical: document.documentElement.scrollHeight - window.innerHeight,
      horizontal: document.documentElement.scrollWidth - window.innerWidth,
    }));
    expect(overflow).toEqual({ vertical: 0, horizontal: 0 });
    fs.mkdirSync(OUTPUT, { recursive: true });
    const file = path.join(OUTPUT, 'wall-display-1080p.png');
    await page.screenshot({ path: file });
    expect(fs.statSync(file).size).toBeGreaterThan(50_000);
  });
});

/**
 * The wall display in Debian's Chromium, fed by the whole real pipeline (simulator → collector →
 * Redis → server → socket.io): every lane gets a tile, its numbers move as the sale goes on, the
 * whole board fits a 1080p and a 4K screen, and screenshots of both are kept with the test output
 * and in docs/screenshots for the README.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type RunningCollector } from '../../collector/collector';
import { SimulatorSource, simulateSale } from '../../collector/sources/simulator';
import { startServer, type RunningServer } from '../../server/server';
import { CHROMIUM, OUTPUT, ROOT, requireBuiltUi, signInViewer, overflow } from '../helpers/browser';
import { grantToken, withAccessStore } from '../helpers/access';
import { dropStores, eventually, isolatedConfig, quietLog } from '../helpers/stores';

const LANES = 8;
const SPEED = 30;
const SCREENS = { '1080p': { width: 1920, height: 1080 }, '4k': { width: 3840, height: 2160 } } as const;

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
  const url = `http://127.0.0.1:${server.port}/`;
  const context = await browser.newContext({ viewport: SCREENS['1080p'] });
  await signInViewer(context, config, url);
  page = await context.newPage();
  await page.goto(url);
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

  it('draws each chart with one uPlot, kept and fed new points rather than made again', async () => {
    const charts = page.locator('[data-testid=attendance-chart]');
    // One per lane and the sale's.
    await expect.poll(() => charts.count()).toBe(LANES + 1);
    await charts.evaluateAll((nodes) =>
      nodes.forEach((node) => ((node.querySelector('canvas') as object as { kept: boolean }).kept = true)),
    );
    const before = await charts.evaluateAll((nodes) => nodes.map((node) => node.dataset.last));
    await eventually(async () => {
      const after = await charts.evaluateAll((nodes) => nodes.map((node) => node.dataset.last));
      return after.filter((last, i) => last !== before[i]).length >= LANES / 2 ? true : undefined;
    }, 20_000);
    const kept = await charts.evaluateAll((nodes) =>
      nodes.map(
        (node) =>
          node.querySelectorAll('canvas').length === 1 &&
          (node.querySelector('canvas') as object as { kept?: boolean }).kept === true,
      ),
    );
    expect(kept).toEqual(Array(LANES + 1).fill(true));
  });

  it('shows a vehicle by year, make and model, never by VIN', async () => {
    const vehicles = await eventually(async () => {
      const values = await page.locator('[data-testid=vehicle]').allInnerTexts();
      return values.length > 0 ? values : undefined;
    });
    expect(vehicles.every((vehicle) => /^\d{4} \S+/.test(vehicle))).toBe(true);
    expect(await page.locator('body').innerText()).not.toMatch(/\b[A-HJ-NPR-Z0-9]{17}\b/);
  });

  for (const [name, viewport] of Object.entries(SCREENS)) {
    it(`fits every lane on a ${name} screen without scrolling, key numbers ≥ 24 px at 1080p, and keeps a screenshot`, async () => {
      await page.setViewportSize(viewport);
      const scale = viewport.height / 1080;
      await expect.poll(() => overflow(page)).toEqual({ vertical: 0, horizontal: 0 });
      const tiles = await page.locator('[data-testid=lane-tile]').evaluateAll((nodes) =>
        nodes.map((node) => {
          const box = node.getBoundingClientRect();
          return box.bottom <= window.innerHeight && box.right <= window.innerWidth;
        }),
      );
      expect(tiles).toEqual(Array(LANES).fill(true));
      const fontPx = (selector: string) =>
        page.locator(selector).evaluateAll((nodes) => nodes.map((node) => parseFloat(getComputedStyle(node).fontSize)));
      for (const size of [
        ...(await fontPx('[data-testid=lane-number]')),
        ...(await fontPx('[data-testid=online-bidders]')),
      ]) {
        expect(size).toBeGreaterThanOrEqual(24 * scale);
      }
      await screenshot(`wall-display-${name}.png`);
    });
  }
});

describe('wall display access', () => {
  it('asks a browser with no login for one, and shows the board once logged in', async () => {
    const context = await browser.newContext({ viewport: SCREENS['1080p'] });
    const fresh = await context.newPage();
    await withAccessStore(config, (store) => store.saveUser('ops lead', 'viewer', 'ops-lead-password'));
    await fresh.goto(`http://127.0.0.1:${server.port}/`);
    const login = fresh.getByTestId('login-panel');
    await login.waitFor();
    expect(await fresh.locator('[data-testid=lane-tile]').count()).toBe(0);
    await login.getByLabel('Name').fill('ops lead');
    await login.getByLabel('Password').fill('not the password');
    await login.getByRole('button', { name: 'Log in' }).click();
    await expect.poll(() => login.getByRole('alert').innerText()).toBe('Wrong name or password.');
    await login.getByLabel('Password').fill('ops-lead-password');
    await login.getByRole('button', { name: 'Log in' }).click();
    await fresh
      .locator('[data-testid=lane-tile]')
      .nth(LANES - 1)
      .waitFor({ timeout: 20_000 });
    await context.close();
  });

  it('shows the board on a kiosk URL with a viewer token, and the login once the token is revoked', async () => {
    const token = await grantToken(config, 'viewer', 'control-room TV');
    const context = await browser.newContext({ viewport: SCREENS['1080p'] });
    const kiosk = await context.newPage();
    await kiosk.goto(`http://127.0.0.1:${server.port}/?kiosk&token=${token}`);
    await kiosk
      .locator('[data-testid=lane-tile]')
      .nth(LANES - 1)
      .waitFor({ timeout: 20_000 });
    const id = (await withAccessStore(config, (store) => store.tokens())).find((t) => t.name === 'control-room TV')?.id;
    await withAccessStore(config, (store) => store.revokeToken(id as string));
    // The server closes the kiosk's socket; it reconnects, is refused, and says so.
    await kiosk.getByTestId('login-panel').waitFor({ timeout: 20_000 });
    await context.close();
  });
});

/** Keeps a screenshot with the test output and, for the README, in docs/screenshots. */
async function screenshot(name: string): Promise<void> {
  fs.mkdirSync(OUTPUT, { recursive: true });
  const file = path.join(OUTPUT, name);
  await page.screenshot({ path: file });
  expect(fs.statSync(file).size).toBeGreaterThan(50_000);
  const docs = path.join(ROOT, 'docs/screenshots');
  fs.mkdirSync(docs, { recursive: true });
  fs.copyFileSync(file, path.join(docs, name));
}

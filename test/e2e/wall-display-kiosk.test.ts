/**
 * The wall display as a control-room kiosk (`?kiosk`), in Chromium, against the wall's own server
 * (test/helpers/wall-server.ts): no cursor and no controls, the screen wake lock asked for again
 * whenever the page shows again, the picture nudged a pixel or two every few minutes, and a
 * reload onto a new build as soon as the server serves one. Chromium gives a headless page no wake
 * lock, so the page gets a stand-in that counts requests and lets the test hide and show it.
 */
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHIFT_EVERY_MS } from '../../ui/src/lib/kiosk';
import { CHROMIUM, requireBuiltUi } from '../helpers/browser';
import { startWallServer, type WallServer } from '../helpers/wall-server';

const LANES = 6;

const WAKE_LOCK_STAND_IN = `(() => {
  const wake = { requests: 0, held: [] };
  window.__wake = wake;
  Object.defineProperty(navigator, 'wakeLock', {
    value: {
      request: async () => {
        const sentinel = { released: false, release: async () => { sentinel.released = true; } };
        wake.requests++;
        wake.held.push(sentinel);
        return sentinel;
      },
    },
  });
  let visibility = 'visible';
  Object.defineProperty(document, 'visibilityState', { get: () => visibility, configurable: true });
  // As a browser does: hiding the page releases its wake lock.
  window.__show = (shown) => {
    visibility = shown ? 'visible' : 'hidden';
    if (!shown) for (const sentinel of wake.held) sentinel.released = true;
    document.dispatchEvent(new Event('visibilitychange'));
  };
})();`;

let server: WallServer;
let browser: Browser;

beforeAll(async () => {
  requireBuiltUi('index.html');
  server = await startWallServer({ lanes: LANES, speed: 10, warmMin: 35 });
  browser = await chromium.launch(CHROMIUM);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

async function open(query: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  await page.addInitScript(WAKE_LOCK_STAND_IN);
  await page.clock.install();
  await page.goto(`${server.url}/${query}`);
  await page
    .locator('[data-testid=lane-tile]')
    .nth(LANES - 1)
    .waitFor({ timeout: 20_000 });
  return page;
}

const wakeRequests = (page: Page) => page.evaluate('window.__wake.requests') as Promise<number>;
const shift = (page: Page) =>
  page.evaluate(`(() => {
    const style = getComputedStyle(document.documentElement);
    return [style.getPropertyValue('--burn-in-x'), style.getPropertyValue('--burn-in-y')].map((v) => parseFloat(v) || 0);
  })()`) as Promise<[number, number]>;

describe('the wall display as a kiosk', () => {
  let kiosk: Page;

  it('shows no cursor and no controls', async () => {
    kiosk = await open('?kiosk');
    const cursors = await kiosk.evaluate(`[...document.querySelectorAll('body, [data-testid=lane-tile], canvas')]
      .map((node) => getComputedStyle(node).cursor)`);
    expect(new Set(cursors as string[])).toEqual(new Set(['none']));
    expect(await kiosk.locator('button, input, select, textarea, a[href]').count()).toBe(0);
  });

  it('keeps the screen awake, asking again each time the page shows again', async () => {
    expect(await wakeRequests(kiosk)).toBe(1);
    await kiosk.evaluate('window.__show(false)');
    await kiosk.evaluate('window.__show(true)');
    await expect.poll(() => wakeRequests(kiosk)).toBe(2);
    // Shown while the lock is still held: nothing to ask for.
    await kiosk.evaluate('window.__show(true)');
    expect(await wakeRequests(kiosk)).toBe(2);
  });

  it('nudges the picture by at most 2 px every few minutes against burn-in', async () => {
    const seen: [number, number][] = [await shift(kiosk)];
    for (let i = 0; i < 8; i++) {
      await kiosk.clock.fastForward(SHIFT_EVERY_MS);
      seen.push(await shift(kiosk));
    }
    expect(seen[0]).toEqual([0, 0]);
    expect(new Set(seen.map(String)).size).toBeGreaterThan(4);
    expect(seen.every(([x, y]) => Math.abs(x) <= 2 && Math.abs(y) <= 2)).toBe(true);
  });

  it('reloads itself once the server serves a new build', async () => {
    const reloaded = kiosk.waitForEvent('load', { timeout: 10_000 });
    server.setBuild('build-2');
    await reloaded;
    await kiosk
      .locator('[data-testid=lane-tile]')
      .nth(LANES - 1)
      .waitFor({ timeout: 20_000 });
  });

  it('is none of this without ?kiosk', async () => {
    const page = await open('');
    expect(await page.evaluate('getComputedStyle(document.body).cursor')).toBe('auto');
    expect(await wakeRequests(page)).toBe(0);
    await page.clock.fastForward(SHIFT_EVERY_MS);
    expect(await shift(page)).toEqual([0, 0]);
    const reloads: unknown[] = [];
    page.on('load', (event) => reloads.push(event));
    server.setBuild('build-3');
    await page.waitForTimeout(2500);
    expect(reloads).toEqual([]);
  });
});

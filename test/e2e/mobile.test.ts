/// <reference lib="webworker" />
/**
 * The managers' phone app at `/m` in Debian's Chromium at a phone's size, against the real server
 * fed by simulated sales whose lane attendance collapses: installable (manifest, icons, service
 * worker scoped to `/m/`), the firing alerts listed with lane and likely causes, Acknowledge and
 * Snooze reaching the server, and a Web Push message shown as a notification with an Acknowledge
 * button. A screenshot is kept with the test output.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type CDPSession, type Page, type Worker } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushPayload } from '../../alerts/notify/webpush';
import type { Alert } from '../../alerts/types';
import { startCollector, type RunningCollector } from '../../collector/collector';
import { SimulatorSource, simulateSale, type SimulatedSale } from '../../collector/sources/simulator';
import { startServer, type RunningServer } from '../../server/server';
import { T0, alert } from '../helpers/delivery';
import { CHROMIUM, OUTPUT, requireBuiltUi } from '../helpers/browser';
import { dropStores, eventually, isolatedConfig, quietLog } from '../helpers/stores';

const PHONE = { width: 390, height: 844 };
const PHONE_CONTEXT = { viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
const MANAGER = 'Dana Reyes';

// Two sites' sales at once, so two lanes' attendance collapses: one alert to acknowledge, one to
// snooze. The same plan for both (seed 3, as test/integration/alerts.test.ts): the collapse hits
// one lane from minute 12 (36 s of wall time) for 6 minutes (18 s), long enough to act on it.
const SPEED = 20;
const sales: SimulatedSale[] = ['dallas', 'houston'].map((auction) =>
  simulateSale({ seed: 3, lanes: 4, durationMin: 60, speed: SPEED, auction, start: undefined }),
);
const collapsedLanes = sales.map((sale) => {
  const collapse = sale.incidents.find((incident) => incident.kind === 'attendance.collapse');
  if (!collapse?.lane) throw new Error(`sale ${sale.sale} scripts no attendance collapse`);
  return { sale: sale.sale, lane: collapse.lane };
});

const config = isolatedConfig();
let server: RunningServer;
let collectors: RunningCollector[] = [];
let browser: Browser;
let context: BrowserContext;
let page: Page;
let base: string;

beforeAll(async () => {
  requireBuiltUi('m/index.html');
  server = await startServer(config, quietLog);
  base = `http://127.0.0.1:${server.port}`;
  browser = await chromium.launch(CHROMIUM);
  context = await browser.newContext(PHONE_CONTEXT);
  await context.grantPermissions(['notifications'], { origin: base });
  page = await context.newPage();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all(collectors.map((collector) => collector.stop()));
  await server?.stop();
  await dropStores(config);
});

/** `sizes` of a PNG as its header says: "192x192". */
function pngSize(png: Buffer): string {
  expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  return `${png.readUInt32BE(16)}x${png.readUInt32BE(20)}`;
}

function card(key: string) {
  return page.locator(`[data-testid=alert-card][data-key="${key}"]`);
}

/** Keys of the alerts the page lists, top first. */
function listedKeys(): Promise<(string | null)[]> {
  return page.locator('[data-testid=alert-card]').evaluateAll((cards) => cards.map((c) => c.getAttribute('data-key')));
}

async function topListed(): Promise<string> {
  const [key] = await listedKeys();
  if (!key) throw new Error('the page lists no alert');
  return key;
}

describe('phone app /m', () => {
  it('serves an installable web app manifest with fetchable icons', async () => {
    const response = await fetch(`${base}/m/manifest.webmanifest`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/manifest\+json/);
    const manifest = (await response.json()) as {
      name: string;
      start_url: string;
      scope: string;
      display: string;
      icons: { src: string; sizes: string; type: string; purpose: string }[];
    };
    expect(manifest).toMatchObject({
      name: 'Lanewatch alerts',
      start_url: '/m/',
      scope: '/m/',
      display: 'standalone',
    });
    const pngs = manifest.icons.filter((icon) => icon.type === 'image/png');
    expect(pngs.map((icon) => `${icon.sizes} ${icon.purpose}`)).toEqual(
      expect.arrayContaining(['192x192 any', '512x512 any', '512x512 maskable']),
    );
    for (const icon of manifest.icons) {
      const image = await fetch(new URL(icon.src, base));
      expect(image.status, icon.src).toBe(200);
      expect(image.headers.get('content-type')).toBe(icon.type);
      if (icon.type === 'image/png') expect(pngSize(Buffer.from(await image.arrayBuffer()))).toBe(icon.sizes);
    }
  });

  it('opens at /m with its service worker active on scope /m/', async () => {
    await page.goto(`${base}/m`);
    expect(new URL(page.url()).pathname).toBe('/m/');
    const worker = () =>
      page.evaluate(async () => {
        const { scope, active } = await navigator.serviceWorker.ready;
        return { scope, script: active?.scriptURL, state: active?.state };
      });
    await expect.poll(worker).toEqual({ scope: `${base}/m/`, script: `${base}/m/sw.js`, state: 'activated' });
  });

  it('is installable as Chromium judges it', async () => {
    // Chromium installs nothing from an incognito context (what `newContext` gives), so this check
    // gets a profile on disk of its own. (The other checks stay incognito: with a profile on disk,
    // headless Chromium now and then drops a shown notification from `getNotifications()`.)
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'lanewatch-mobile-'));
    const installer = await chromium.launchPersistentContext(profile, { ...CHROMIUM, ...PHONE_CONTEXT });
    try {
      const tab = installer.pages()[0] ?? (await installer.newPage());
      await tab.goto(`${base}/m`);
      await tab.evaluate(() => navigator.serviceWorker.ready);
      const cdp = await installer.newCDPSession(tab);
      const { errors } = (await cdp.send('Page.getAppManifest')) as { errors: { message: string }[] };
      expect(errors).toEqual([]);
      const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
      expect(installabilityErrors).toEqual([]);
    } finally {
      await installer.close();
      fs.rmSync(profile, { recursive: true, force: true });
    }
  });

  it('says so when no alert is firing, and shows the connection', async () => {
    await expect.poll(() => page.getByTestId('empty-state').innerText()).toContain('No alerts firing');
    await expect.poll(() => page.getByTestId('connection-status').getAttribute('data-state')).toBe('connected');
  });

  it('asks for the name to acknowledge under once, and keeps it', async () => {
    const enable = page.getByRole('button', { name: 'Enable alerts' });
    expect(await enable.isDisabled()).toBe(true);
    await page.getByLabel('Your name').fill(MANAGER);
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByTestId('manager-name').innerText()).toContain(`Acknowledging as ${MANAGER}`);
    await page.reload();
    await expect.poll(() => page.getByTestId('manager-name').innerText()).toContain(`Acknowledging as ${MANAGER}`);
    await expect.poll(() => page.getByTestId('push-switch').getAttribute('data-state')).toBe('off');
    expect(await enable.isEnabled()).toBe(true);
  });

  it('lists each firing attendance.decline with its lane and likely causes as it fires', async () => {
    collectors = await Promise.all(
      sales.map((sale) => startCollector(config, [{ source: new SimulatorSource(sale, SPEED) }], quietLog)),
    );
    const firing = await eventually(async () => {
      const alerts = (await (await fetch(`${base}/api/alerts?state=firing`)).json()) as Alert[];
      const declines = collapsedLanes.map(({ sale, lane }) =>
        alerts.find((a) => a.rule === 'attendance.decline' && a.sale === sale && a.lane === lane),
      );
      return declines.every((a) => a !== undefined) ? (declines as Alert[]) : undefined;
    }, 120_000);
    for (const decline of firing) {
      const shown = card(decline.key);
      await shown.waitFor({ timeout: 10_000 });
      expect(await shown.getByTestId('alert-place').innerText()).toBe(`Lane ${decline.lane}`);
      expect(await shown.getByTestId('alert-rule').innerText()).toContain('attendance.decline');
      expect(decline.causes.length).toBeGreaterThan(0);
      expect(await shown.getByTestId('alert-causes').innerText()).toContain(decline.causes[0]);
    }
    fs.mkdirSync(OUTPUT, { recursive: true });
    const file = path.join(OUTPUT, 'mobile.png');
    await page.screenshot({ path: file });
    expect(fs.statSync(file).size).toBeGreaterThan(20_000);
  }, 150_000);

  it('acknowledges an alert under the saved name, and the alert leaves the list', async () => {
    const key = await topListed();
    const [request] = await Promise.all([
      page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/ack')),
      card(key).getByRole('button', { name: 'Acknowledge' }).click(),
    ]);
    expect(request.url()).toBe(`${base}/api/alerts/${encodeURIComponent(key)}/ack`);
    expect(request.postDataJSON()).toEqual({ by: MANAGER });
    const response = await request.response();
    expect(await response?.json()).toMatchObject({ key, state: 'firing', acknowledgedBy: MANAGER });
    await expect.poll(listedKeys).not.toContain(key);
  });

  it('snoozes an alert for 30 minutes, and the alert leaves the list', async () => {
    const key = await topListed();
    const [request] = await Promise.all([
      page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/snooze')),
      card(key).getByRole('button', { name: '30 min' }).click(),
    ]);
    expect(request.url()).toBe(`${base}/api/alerts/${encodeURIComponent(key)}/snooze`);
    expect(request.postDataJSON()).toEqual({ minutes: 30, by: MANAGER });
    const response = await request.response();
    expect(await response?.json()).toMatchObject({ key, snoozedUntil: expect.any(Number) });
    await expect.poll(listedKeys).not.toContain(key);
  });

  it('shows a pushed alert as a notification with an Acknowledge button', async () => {
    const cdp = await context.newCDPSession(page);
    const registrationId = await serviceWorkerRegistration(cdp, `${base}/m/`);
    const pushed = alert('4', {
      causes: ['stream lag on lane 4 (p95 4.2 s)', 'clerk changed 2 min before the drop'],
      figures: { onlineBidders: 16, baseline: 31, dropPct: 48 },
    });
    const payload = pushPayload({
      id: 'n-1',
      auction: pushed.auction,
      sale: pushed.sale,
      audience: 'primary',
      createdAt: T0,
      severity: pushed.severity,
      items: [{ idempotencyKey: `${pushed.key}#2`, reason: 'firing', alert: pushed }],
    });
    // Delivered once the worker runs: a push sent while DevTools is still attaching to it may be
    // lost, and on a loaded machine that window is long, so an unanswered push is sent again.
    const worker = await appWorker();
    const shownNotifications = () =>
      worker.evaluate(async () =>
        (await (self as unknown as ServiceWorkerGlobalScope).registration.getNotifications()).map((n) => ({
          title: n.title,
          body: n.body,
          tag: n.tag,
          actions: (n as Notification & { actions: { action: string; title: string }[] }).actions.map(
            ({ action, title }) => ({ action, title }),
          ),
          data: n.data as unknown,
        })),
      );
    let shown: Awaited<ReturnType<typeof shownNotifications>> = [];
    for (let attempt = 0; attempt < 5 && shown.length === 0; attempt++) {
      await cdp.send('ServiceWorker.deliverPushMessage', {
        origin: base,
        registrationId,
        data: JSON.stringify(payload),
      });
      shown = await eventually(async () => {
        const now = await shownNotifications();
        return now.length > 0 ? now : undefined;
      }, 4000).catch(() => []);
    }
    const [notification, ...others] = shown;
    expect(others).toEqual([]);
    expect(notification).toEqual({
      title: 'Firing · attendance.decline · lane 4',
      body: [
        'Firing: Lane 4: online bidders down 48 % (31 → 16)',
        'online bidders 16 · baseline 31 · drop 48 %',
        'likely stream lag on lane 4 (p95 4.2 s); clerk changed 2 min before the drop',
      ].join('\n'),
      tag: payload.tag,
      actions: [{ action: 'acknowledge', title: 'Acknowledge' }],
      data: { acks: [`/api/alerts/${encodeURIComponent(pushed.key)}/ack`] },
    });
    await cdp.detach();
  });
});

/** The id DevTools knows the app's service worker registration by (for `deliverPushMessage`). */
async function serviceWorkerRegistration(cdp: CDPSession, scope: string): Promise<string> {
  const registrations: { registrationId: string; scopeURL: string; isDeleted: boolean }[] = [];
  cdp.on('ServiceWorker.workerRegistrationUpdated', (event) => registrations.push(...event.registrations));
  await cdp.send('ServiceWorker.enable');
  return eventually(() => registrations.find((r) => r.scopeURL === scope && !r.isDeleted)?.registrationId, 10_000);
}

async function appWorker(): Promise<Worker> {
  return eventually(() => context.serviceWorkers().find((w) => w.url() === `${base}/m/sw.js`), 10_000);
}

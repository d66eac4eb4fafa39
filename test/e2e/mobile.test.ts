/// <reference lib="webworker" />
/**
 * The managers' phone app at `/m` in Debian's Chromium at a phone's size, against the real server
 * fed by simulated sales whose lane attendance collapses: installable (manifest, icons, service
 * worker scoped to `/m/`), behind a login (a wrong password is told, a viewer may only look), the
 * firing alerts listed with lane and likely causes, Acknowledge and Snooze reaching the server
 * under the logged-in manager's name, and a Web Push message shown as a notification whose
 * Acknowledge button rides on the session cookie. A screenshot is kept with the test output.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type CDPSession, type Page, type Worker } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushPayload, type PushPayload } from '../../alerts/notify/webpush';
import type { Alert } from '../../alerts/types';
import { startCollector, type RunningCollector } from '../../collector/collector';
import { SimulatorSource, simulateSale, type SimulatedSale } from '../../collector/sources/simulator';
import { startServer, type RunningServer } from '../../server/server';
import { grantToken, withAccessStore, withToken } from '../helpers/access';
import { T0, alert } from '../helpers/delivery';
import { CHROMIUM, OUTPUT, requireBuiltUi } from '../helpers/browser';
import { dropStores, eventually, isolatedConfig, quietLog } from '../helpers/stores';

const PHONE = { width: 390, height: 844 };
const PHONE_CONTEXT = { viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
const MANAGER = { name: 'Maria Lopez', password: 'a-long-password' };
const VIEWER = { name: 'Vic Diaz', password: 'another-long-password' };

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
/** A second phone, where the viewer is logged in. */
let viewerPage: Page;
let base: string;
/** For the test's own reads of the API. */
let readToken: string;
/** The alerts the manager acted on, as the tests go. */
const actedOn = { acknowledged: '', snoozed: '' };

beforeAll(async () => {
  requireBuiltUi('m/index.html');
  server = await startServer(config, quietLog);
  base = `http://127.0.0.1:${server.port}`;
  await withAccessStore(config, async (store) => {
    await store.saveUser(MANAGER.name, 'manager', MANAGER.password);
    await store.saveUser(VIEWER.name, 'viewer', VIEWER.password);
  });
  readToken = await grantToken(config, 'viewer');
  browser = await chromium.launch(CHROMIUM);
  context = await browser.newContext(PHONE_CONTEXT);
  await context.grantPermissions(['notifications'], { origin: base });
  page = await context.newPage();
  viewerPage = await (await browser.newContext(PHONE_CONTEXT)).newPage();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all(collectors.map((collector) => collector.stop()));
  await server?.stop();
  await dropStores(config);
});

/** `GET` from the API as the test itself (a viewer token), not as the page. */
async function read<T>(apiPath: string): Promise<T> {
  const response = await fetch(`${base}${apiPath}`, withToken(readToken));
  expect(response.status, apiPath).toBe(200);
  return (await response.json()) as T;
}

/** `sizes` of a PNG as its header says: "192x192". */
function pngSize(png: Buffer): string {
  expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  return `${png.readUInt32BE(16)}x${png.readUInt32BE(20)}`;
}

function card(key: string, on = page) {
  return on.locator(`[data-testid=alert-card][data-key="${key}"]`);
}

/** Keys of the alerts the page lists, top first. */
function listedKeys(on = page): Promise<(string | null)[]> {
  return on.locator('[data-testid=alert-card]').evaluateAll((cards) => cards.map((c) => c.getAttribute('data-key')));
}

async function topListed(on = page): Promise<string> {
  const [key] = await listedKeys(on);
  if (!key) throw new Error('the page lists no alert');
  return key;
}

/** Fills in the login form and sends it. */
async function logIn(on: Page, { name, password }: { name: string; password: string }): Promise<void> {
  await on.getByLabel('User name').fill(name);
  await on.getByLabel('Password').fill(password);
  await on.getByRole('button', { name: 'Log in' }).click();
}

/** What the page shows in its `role=alert` boxes, for `expect.poll`. */
function errorsShown(on = page): () => Promise<string[]> {
  return () => on.getByRole('alert').allInnerTexts();
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

  it('asks to log in first, and says so when the password is wrong', async () => {
    const form = page.getByTestId('login-form');
    await form.waitFor();
    expect(await page.getByLabel('User name').getAttribute('autocomplete')).toBe('username');
    expect(await page.getByLabel('Password').getAttribute('autocomplete')).toBe('current-password');
    expect(await page.getByTestId('connection-status').count()).toBe(0);
    await logIn(page, { name: MANAGER.name, password: 'not-the-password' });
    await expect.poll(errorsShown()).toEqual(['Wrong name or password.']);
    expect(await form.isVisible()).toBe(true);
  });

  it('logs in, stays logged in across a reload, and says so when no alert is firing', async () => {
    await logIn(page, MANAGER);
    await expect.poll(() => page.getByTestId('signed-in').innerText()).toContain(`Signed in as ${MANAGER.name}`);
    await expect.poll(() => page.getByTestId('empty-state').innerText()).toContain('No alerts firing');
    await expect.poll(() => page.getByTestId('connection-status').getAttribute('data-state')).toBe('connected');
    await page.reload();
    await expect.poll(() => page.getByTestId('connection-status').getAttribute('data-state')).toBe('connected');
    expect(await page.getByTestId('signed-in').innerText()).toContain(`Signed in as ${MANAGER.name}`);
    await expect.poll(() => page.getByTestId('push-switch').getAttribute('data-state')).toBe('off');
    expect(await page.getByRole('button', { name: 'Enable alerts' }).isEnabled()).toBe(true);
  });

  it('tells a viewer who logs in that acknowledging and phone alerts need a manager', async () => {
    await viewerPage.goto(`${base}/m/`);
    await logIn(viewerPage, VIEWER);
    await expect
      .poll(() => viewerPage.getByTestId('signed-in').innerText())
      .toMatch(/Signed in as Vic Diaz[\s\S]*acknowledging and snoozing them need a manager/);
    await expect.poll(() => viewerPage.getByTestId('push-switch').getAttribute('data-state')).toBe('off');
    expect(await viewerPage.getByRole('button', { name: 'Enable alerts' }).isDisabled()).toBe(true);
    await expect.poll(() => viewerPage.getByTestId('connection-status').getAttribute('data-state')).toBe('connected');
  });

  it('lists each firing attendance.decline with its lane and likely causes as it fires', async () => {
    collectors = await Promise.all(
      sales.map((sale) => startCollector(config, [{ source: new SimulatorSource(sale, SPEED) }], quietLog)),
    );
    const firing = await eventually(async () => {
      const alerts = await read<Alert[]>('/api/alerts?state=firing');
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

  it("shows a viewer's Acknowledge the server's refusal, and keeps the alert listed", async () => {
    const key = await topListed();
    const shown = card(key, viewerPage);
    const [response] = await Promise.all([
      viewerPage.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/ack')),
      shown.getByRole('button', { name: 'Acknowledge' }).click(),
    ]);
    expect(response.status()).toBe(403);
    await expect
      .poll(() => shown.getByRole('alert').innerText())
      .toBe(`Acknowledge failed: the server refused (403): this needs the manager role; ${VIEWER.name} is a viewer`);
    expect(await listedKeys(viewerPage)).toContain(key);
    await viewerPage.context().close();
  });

  it('acknowledges an alert under the logged-in name, and the alert leaves the list', async () => {
    const key = (actedOn.acknowledged = await topListed());
    const [request] = await Promise.all([
      page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/ack')),
      card(key).getByRole('button', { name: 'Acknowledge' }).click(),
    ]);
    expect(request.url()).toBe(`${base}/api/alerts/${encodeURIComponent(key)}/ack`);
    expect(request.postDataJSON()).toEqual({});
    const response = await request.response();
    expect(await response?.json()).toMatchObject({ key, state: 'firing', acknowledgedBy: MANAGER.name });
    await expect.poll(listedKeys).not.toContain(key);
    const acknowledged = await read<Alert[]>('/api/alerts?state=acknowledged');
    expect(acknowledged.find((a) => a.key === key)?.acknowledgedBy).toBe(MANAGER.name);
  });

  it('snoozes an alert for 30 minutes, and the alert leaves the list', async () => {
    const key = (actedOn.snoozed = await topListed());
    const [request] = await Promise.all([
      page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/snooze')),
      card(key).getByRole('button', { name: '30 min' }).click(),
    ]);
    expect(request.url()).toBe(`${base}/api/alerts/${encodeURIComponent(key)}/snooze`);
    expect(request.postDataJSON()).toEqual({ minutes: 30 });
    const response = await request.response();
    expect(await response?.json()).toMatchObject({ key, snoozedUntil: expect.any(Number) });
    await expect.poll(listedKeys).not.toContain(key);
  });

  it('shows a pushed alert as a notification with an Acknowledge button', async () => {
    const pushed = alert('4', {
      causes: ['stream lag on lane 4 (p95 4.2 s)', 'clerk changed 2 min before the drop'],
      figures: { onlineBidders: 16, baseline: 31, dropPct: 48 },
    });
    const payload = payloadOf(pushed, 'n-1');
    const shown = await push(payload);
    expect(shown).toEqual([
      {
        title: 'Firing · attendance.decline · lane 4',
        body: [
          'Firing: Lane 4: online bidders down 48 % (31 → 16)',
          'online bidders 16 · baseline 31 · drop 48 %',
          'likely stream lag on lane 4 (p95 4.2 s); clerk changed 2 min before the drop',
        ].join('\n'),
        tag: payload.tag,
        actions: [{ action: 'acknowledge', title: 'Acknowledge' }],
        data: { acks: [`/api/alerts/${encodeURIComponent(pushed.key)}/ack`] },
      },
    ]);
  });

  it("acknowledges from the notification's Acknowledge button with the session cookie", async () => {
    const snoozed = (await read<Alert[]>('/api/alerts')).find((a) => a.key === actedOn.snoozed);
    if (!snoozed) throw new Error(`the server no longer knows ${actedOn.snoozed}`);
    expect(snoozed.acknowledgedBy).toBeUndefined();
    const payload = payloadOf(snoozed, 'n-2');
    await push(payload);
    const [request] = await Promise.all([workerAck(), tapAction(payload.tag, 'acknowledge')]);
    expect(request.url()).toBe(`${base}/api/alerts/${encodeURIComponent(snoozed.key)}/ack`);
    expect(request.postDataJSON()).toEqual({});
    expect((await request.allHeaders()).cookie).toMatch(/(^|; )lanewatch_session=/);
    expect((await request.response())?.status()).toBe(200);
    const now = (await read<Alert[]>('/api/alerts')).find((a) => a.key === snoozed.key);
    expect(now?.acknowledgedBy).toBe(MANAGER.name);
  });

  it('shows the login form as soon as the session ends elsewhere under a connected page', async () => {
    // Ended elsewhere (another tab logging out, an admin removing the user): the server closes the
    // page's socket, whose next handshake it refuses.
    expect(await page.getByTestId('connection-status').getAttribute('data-state')).toBe('connected');
    const session = (await context.cookies(base)).find((c) => c.name === 'lanewatch_session');
    if (!session) throw new Error('the browser holds no session cookie');
    const ended = await fetch(`${base}/api/auth/logout`, {
      method: 'POST',
      headers: { cookie: `lanewatch_session=${session.value}` },
    });
    expect(ended.status).toBe(204);
    await page.getByTestId('login-form').waitFor({ timeout: 5000 });
    await logIn(page, MANAGER);
    await expect.poll(() => page.getByTestId('connection-status').getAttribute('data-state')).toBe('connected');
  });

  it('logs out back to the login form, and the server forgets the session', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByTestId('login-form').waitFor();
    expect(await page.getByTestId('connection-status').count()).toBe(0);
    expect(await page.evaluate(async () => (await fetch('/api/auth/me')).status)).toBe(401);
    await page.reload();
    await page.getByTestId('login-form').waitFor();
  });

  it("opens the app from the notification's Acknowledge when logged out", async () => {
    // Headless Chromium lets no script focus a window, and the worker's `focus()` is what opens the app here: record it.
    const worker = await appWorker();
    await worker.evaluate(() => {
      WindowClient.prototype.focus = function (this: WindowClient) {
        (self as unknown as { focused: string[] }).focused.push(this.url);
        return Promise.resolve(this);
      };
      (self as unknown as { focused: string[] }).focused = [];
    });
    const payload = payloadOf(alert('3'), 'n-3');
    await push(payload);
    const [request] = await Promise.all([workerAck(), tapAction(payload.tag, 'acknowledge')]);
    expect((await request.response())?.status()).toBe(401);
    await expect
      .poll(() => worker.evaluate(() => (self as unknown as { focused: string[] }).focused))
      .toEqual([`${base}/m/`]);
    expect((await shownNotifications()).map((n) => n.title)).not.toContain('Acknowledge failed');
  });

  it('blocks logging in after too many wrong passwords, and says for how long', async () => {
    // The server allows 10 failures per address in 15 minutes (server/access/routes.ts); the test ends with this one.
    const tryWrong = () =>
      fetch(`${base}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: MANAGER.name, password: 'guessing-again' }),
      });
    await eventually(async () => ((await tryWrong()).status === 429 ? true : undefined), 30_000);
    await logIn(page, MANAGER);
    await expect
      .poll(errorsShown())
      .toEqual(['Logging in is blocked for now: too many failed logins from this address; try again in 15 minutes.']);
  });
});

/** The push message the server would send about `pushed`, firing. */
function payloadOf(pushed: Alert, id: string): PushPayload {
  return pushPayload({
    id,
    auction: pushed.auction,
    sale: pushed.sale,
    audience: 'primary',
    createdAt: T0,
    severity: pushed.severity,
    items: [{ idempotencyKey: `${pushed.key}#${pushed.transition}`, reason: 'firing', alert: pushed }],
  });
}

/**
 * Delivers `payload` to the app's service worker as the push service would; resolves with the
 * notifications then shown under its tag. A push sent while DevTools is still attaching to the
 * worker may be lost, and on a loaded machine that window is long, so an unanswered push is sent again.
 */
async function push(payload: PushPayload): Promise<ShownNotification[]> {
  const cdp = await context.newCDPSession(page);
  try {
    const registrationId = await serviceWorkerRegistration(cdp, `${base}/m/`);
    for (let attempt = 0; attempt < 5; attempt++) {
      await cdp.send('ServiceWorker.deliverPushMessage', {
        origin: base,
        registrationId,
        data: JSON.stringify(payload),
      });
      const shown = await eventually(async () => {
        const tagged = (await shownNotifications()).filter((n) => n.tag === payload.tag);
        return tagged.length > 0 ? tagged : undefined;
      }, 4000).catch(() => []);
      if (shown.length > 0) return shown;
    }
    throw new Error(`the push ${payload.id} was never shown`);
  } finally {
    await cdp.detach();
  }
}

type ShownNotification = Awaited<ReturnType<typeof shownNotifications>>[number];

async function shownNotifications() {
  const worker = await appWorker();
  return worker.evaluate(async () =>
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
}

/**
 * Taps a button of the notification tagged `tag`. Headless Chromium shows no notification to tap,
 * so the worker gets the `notificationclick` a tap would give it; being synthetic, the event's
 * `waitUntil` throws, after the work it was handed has started.
 */
async function tapAction(tag: string, action: string): Promise<void> {
  const worker = await appWorker();
  await worker.evaluate(
    async ({ tag, action }) => {
      const scope = self as unknown as ServiceWorkerGlobalScope;
      const [notification] = await scope.registration.getNotifications({ tag });
      if (!notification) throw new Error(`no notification tagged ${tag}`);
      scope.dispatchEvent(new NotificationEvent('notificationclick', { notification, action }));
    },
    { tag, action },
  );
}

/** The next acknowledgement the service worker (not the page) sends. */
function workerAck() {
  return context.waitForEvent('request', {
    predicate: (r) => r.serviceWorker() !== null && r.method() === 'POST' && r.url().endsWith('/ack'),
    timeout: 10_000,
  });
}

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

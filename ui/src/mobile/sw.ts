/// <reference lib="webworker" />
/**
 * The phone app's service worker, served at `/m/sw.js` with scope `/m/`. It turns each Web Push
 * message (alerts/notify/webpush.ts `PushPayload`) into a notification; its Acknowledge button
 * acknowledges the alerts without opening the app, as the manager logged in on the page (the
 * session cookie), and a tap anywhere else opens the app.
 */
import type { PushPayload } from '../../../alerts/notify/webpush';
import { figuresLine } from './lib/wording';

declare const self: ServiceWorkerGlobalScope;

const APP = '/m/';
const ICON = '/m/icons/icon-192.png';
/** Where the version before logins kept the manager's typed name; the session cookie replaced it. */
const OLD_NAME_CACHE = 'lanewatch-m';

/** What a notification remembers for its buttons. */
interface NotificationData {
  /** The alerts' acknowledge links (`POST`), for the Acknowledge button. */
  acks: string[];
}

/** Chromium and Safari honour these; the DOM typings leave them out. */
interface AlertNotificationOptions extends NotificationOptions {
  actions: PushPayload['actions'];
  renotify: boolean;
  data: NotificationData;
}

// A new version takes over at once: it has no cache to keep consistent with open pages.
self.addEventListener('install', () => void self.skipWaiting());
self.addEventListener('activate', (event) =>
  event.waitUntil(Promise.all([self.clients.claim(), caches.delete(OLD_NAME_CACHE)])),
);

self.addEventListener('push', (event) => {
  event.waitUntil(showAlerts(event.data));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const { acks } = (event.notification.data ?? { acks: [] }) as NotificationData;
  event.waitUntil(event.action === 'acknowledge' ? acknowledgeAll(acks, event.notification.tag) : openApp());
});

function showAlerts(data: PushMessageData | null): Promise<void> {
  let payload: PushPayload;
  try {
    payload = data?.json() as PushPayload;
    if (!Array.isArray(payload.alerts)) throw new Error('no alerts in the message');
  } catch {
    // A push must show something (userVisibleOnly), and a message this worker cannot read is still news.
    return self.registration.showNotification('Lanewatch', { body: 'New alert: open Lanewatch', icon: ICON });
  }
  const options: AlertNotificationOptions = {
    body: bodyOf(payload),
    icon: ICON,
    // The same alerts' next message (a reminder, the resolve) replaces this one, and buzzes again.
    tag: payload.tag,
    renotify: true,
    requireInteraction: payload.severity === 'critical',
    actions: payload.actions,
    data: { acks: payload.alerts.flatMap((alert) => (alert.ack ? [alert.ack] : [])) },
  };
  return self.registration.showNotification(payload.title, options);
}

/** The server's lines, then each alert's figures and likely causes (which the server drops near the size limit). */
function bodyOf(payload: PushPayload): string {
  const details = payload.alerts.flatMap((alert) => {
    const where = payload.alerts.length > 1 && alert.lane !== undefined ? `Lane ${alert.lane}: ` : '';
    const figures = figuresLine(alert.figures);
    return [
      ...(figures ? [`${where}${figures}`] : []),
      ...(alert.causes.length > 0 ? [`${where}likely ${alert.causes.join('; ')}`] : []),
    ];
  });
  return [payload.body, ...details].join('\n');
}

/**
 * POSTs every acknowledge link; the server records them under the login the page's session cookie
 * names. When the server knows no login (401) or the login may not acknowledge (403), the app opens
 * to log in or say why; any other failure is told in a notification that opens the app.
 */
async function acknowledgeAll(acks: readonly string[], tag: string): Promise<void> {
  const results = await Promise.allSettled(acks.map(acknowledge));
  const reasons = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
  if (reasons.some((reason) => reason instanceof NotAllowed)) return openApp();
  const failures = reasons.map(String);
  if (failures.length === 0) return;
  await self.registration.showNotification('Acknowledge failed', {
    body: `${failures.length} of ${acks.length} not acknowledged (${failures[0]}). Tap to open Lanewatch.`,
    icon: ICON,
    tag,
    data: { acks: [] } satisfies NotificationData,
  });
}

/** The server refused the acknowledgement for who is asking (401 or 403): only the app can help. */
class NotAllowed extends Error {
  override name = 'NotAllowed';
}

async function acknowledge(url: string): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    // A same-origin request sends the cookie by default; the acknowledgement rests on it, so say so.
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  if (response.status === 401 || response.status === 403)
    throw new NotAllowed(`the server answered ${response.status}`);
  if (!response.ok) throw new Error(`the server answered ${response.status}`);
}

/** Focuses the app if it is open, else opens it. */
async function openApp(): Promise<void> {
  // The app at `/m` (before its redirect to `/m/`) is outside the scope: count uncontrolled pages too.
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const open = windows.find(({ url }) => {
    const { pathname } = new URL(url);
    return pathname === '/m' || pathname.startsWith(APP);
  });
  if (open) await open.focus();
  else await self.clients.openWindow(APP);
}

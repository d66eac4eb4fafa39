/// <reference lib="webworker" />
/**
 * The phone app's service worker, served at `/m/sw.js` with scope `/m/`. It turns each Web Push
 * message (alerts/notify/webpush.ts `PushPayload`) into a notification; its Acknowledge button
 * acknowledges the alerts without opening the app, and a tap anywhere else opens the app.
 */
import type { PushPayload } from '../../../alerts/notify/webpush';
import { workerName } from './lib/manager';
import { figuresLine } from './lib/wording';

declare const self: ServiceWorkerGlobalScope;

const APP = '/m/';
const ICON = '/m/icons/icon-192.png';

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
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

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
 * POSTs every acknowledge link as the name the page saved. Without a name, or when the server
 * refuses, the manager is told so and the app opens to do it there.
 */
async function acknowledgeAll(acks: readonly string[], tag: string): Promise<void> {
  const by = await workerName();
  if (by === null) return openApp();
  const results = await Promise.allSettled(
    acks.map(async (url) => {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ by }),
      });
      if (!response.ok) throw new Error(`the server answered ${response.status}`);
    }),
  );
  const failures = results.flatMap((result) => (result.status === 'rejected' ? [String(result.reason)] : []));
  if (failures.length === 0) return;
  await self.registration.showNotification('Acknowledge failed', {
    body: `${failures.length} of ${acks.length} not acknowledged (${failures[0]}). Tap to open Lanewatch.`,
    icon: ICON,
    tag,
    data: { acks: [] } satisfies NotificationData,
  });
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

/**
 * The server's REST API (../../../../../shared/API.md) as far as the phone app uses it: the firing
 * alerts, acknowledge and snooze, and the Web Push subscription (alerts/notify/push-routes.ts).
 * Every call throws an Error whose message says what failed, in words fit for the screen.
 */
import type { Alert } from '../../../../alerts/types';

export type SnoozeMinutes = 15 | 30 | 60;

/** `GET /api/alerts?state=firing`. */
export function fetchFiring(signal?: AbortSignal): Promise<Alert[]> {
  return call<Alert[]>('GET', '/api/alerts?state=firing', { signal });
}

/** `POST /api/alerts/:key/ack` → the alert, acknowledged. */
export function acknowledge(key: string, by: string): Promise<Alert> {
  return call<Alert>('POST', `${alertPath(key)}/ack`, { body: { by } });
}

/** `POST /api/alerts/:key/snooze` → the alert, snoozed. */
export function snooze(key: string, minutes: SnoozeMinutes, by: string): Promise<Alert> {
  return call<Alert>('POST', `${alertPath(key)}/snooze`, { body: { minutes, by } });
}

/** `GET /api/push/vapid-public-key`: the `applicationServerKey` (base64url). */
export async function vapidPublicKey(): Promise<string> {
  return (await call<{ publicKey: string }>('GET', '/api/push/vapid-public-key')).publicKey;
}

/** `POST /api/push/subscriptions`: this phone starts getting alerts. */
export async function saveSubscription(subscription: PushSubscriptionJSON): Promise<void> {
  await call('POST', '/api/push/subscriptions', { body: subscription });
}

/** `DELETE /api/push/subscriptions`: this phone stops. An endpoint the server never knew is fine. */
export async function deleteSubscription(endpoint: string): Promise<void> {
  await call('DELETE', '/api/push/subscriptions', { body: { endpoint }, alsoFine: [404] });
}

/** Keys hold `|` and `:` (`attendance.decline|dallas|42|lane:4`): always one encoded path segment. */
function alertPath(key: string): string {
  return `/api/alerts/${encodeURIComponent(key)}`;
}

interface CallOptions {
  /** Sent as JSON. */
  body?: unknown;
  signal?: AbortSignal;
  /** Statuses that are not a failure here, answered with `undefined`. */
  alsoFine?: number[];
}

async function call<T>(method: string, path: string, { body, signal, alsoFine = [] }: CallOptions = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      signal,
      headers: body === undefined ? { accept: 'application/json' } : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new Error('no connection to the server', { cause: error });
  }
  if (alsoFine.includes(response.status)) return undefined as T;
  if (!response.ok) throw new Error(`the server refused (${response.status}): ${await reasonOf(response)}`);
  return (response.status === 204 ? undefined : await response.json()) as T;
}

/** The `{ error }` the API answers with, or the status text. */
async function reasonOf(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { error?: unknown };
    if (typeof body.error === 'string') return body.error;
  } catch {
    // not JSON: fall back to the status text
  }
  return response.statusText || 'no reason given';
}

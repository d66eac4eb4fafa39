/**
 * The server's REST API (../../../../../shared/API.md) as far as the phone app uses it: logging in
 * and out, the firing alerts, acknowledge and snooze, and the Web Push subscription
 * (alerts/notify/push-routes.ts). Every call but login rides on the session cookie the browser
 * keeps (HttpOnly: the page never sees it), and throws an Error whose message says what failed,
 * in words fit for the screen: an `ApiError` when the server refused.
 */
import type { Alert } from '../../../../alerts/types';
import type { Principal } from '../../../../server/access/roles';

export type SnoozeMinutes = 15 | 30 | 60;

/** Who is logged in on this browser. */
export type User = Pick<Principal, 'name' | 'role'>;

/**
 * The server answered with an error: `status` says what the caller can do (401: log in; 403: the
 * role is too low; 429: wait), `reason` is the server's own `{ error }`.
 */
export class ApiError extends Error {
  override name = 'ApiError';

  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(`the server refused (${status}): ${reason}`);
  }
}

const signedOutListeners = new Set<() => void>();

/**
 * `listener` runs each time the server says this browser is not logged in: a 401 from any call
 * (the session expired, or the user was removed), or the live socket refused (`reportSignedOut`).
 */
export function onSignedOut(listener: () => void): void {
  signedOutListeners.add(listener);
}

/** For refusals that are no HTTP answer: the live socket's `connect_error`. */
export function reportSignedOut(): void {
  for (const listener of signedOutListeners) listener();
}

/** `POST /api/auth/login`: the server sets the session cookie. 401 = wrong name or password, 429 = too many tries. */
export function login(name: string, password: string): Promise<User> {
  return call<User>('POST', '/api/auth/login', { body: { name, password } });
}

/** `POST /api/auth/logout`: the server forgets the session and clears the cookie. */
export async function logout(): Promise<void> {
  await call('POST', '/api/auth/logout', { body: {} });
}

/** `GET /api/auth/me`: who the cookie belongs to; 401 when nobody is logged in. */
export function fetchMe(): Promise<Principal> {
  return call<Principal>('GET', '/api/auth/me');
}

/** `GET /api/alerts?state=firing`. */
export function fetchFiring(signal?: AbortSignal): Promise<Alert[]> {
  return call<Alert[]>('GET', '/api/alerts?state=firing', { signal });
}

/** `POST /api/alerts/:key/ack` → the alert, acknowledged under the logged-in manager's name. */
export function acknowledge(key: string): Promise<Alert> {
  return call<Alert>('POST', `${alertPath(key)}/ack`, { body: {} });
}

/** `POST /api/alerts/:key/snooze` → the alert, snoozed (by the logged-in manager). */
export function snooze(key: string, minutes: SnoozeMinutes): Promise<Alert> {
  return call<Alert>('POST', `${alertPath(key)}/snooze`, { body: { minutes } });
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
  if (!response.ok) {
    const error = new ApiError(response.status, await reasonOf(response));
    if (response.status === 401) reportSignedOut();
    throw error;
  }
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

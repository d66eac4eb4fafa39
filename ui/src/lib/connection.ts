/**
 * The one place the wall display opens connections to its server: the socket.io `/live` namespace
 * and REST requests (../../../shared/API.md). Whatever the server asks of a screen to let it in is
 * added here, for both.
 */
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../../../server/wire';

export type LiveSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/**
 * A kiosk's URL carries a viewer access token (`/?kiosk&token=lw_…`); a person's browser has the
 * session cookie of their login instead, which the browser sends by itself.
 */
const token = new URLSearchParams(location.search).get('token');

/** Connects at once and reconnects by itself (with backoff) until `disconnect()`. */
export function openLiveSocket(): LiveSocket {
  return io('/live', token === null ? {} : { auth: { token } });
}

/** The server refused the credential (or there was none): someone must log in. */
export class NotLoggedInError extends Error {
  override name = 'NotLoggedInError';
}

/** `GET path` as JSON. Throws an Error naming the route and status on anything but a 2xx answer. */
export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const response = await fetch(path, { signal: signal ?? null, headers });
  if (response.status === 401) throw new NotLoggedInError(`GET ${path.split('?')[0]} needs a login`);
  if (!response.ok) throw new Error(`GET ${path.split('?')[0]} answered ${response.status}`);
  return (await response.json()) as T;
}

/**
 * Finding who is asking, the same way for an HTTP request and a socket.io handshake: a session
 * cookie (people, after logging in), or an access token (machines and kiosks) in an
 * `Authorization: Bearer` header, a socket's `auth.token`, or a `token` query parameter (a kiosk
 * URL). Also the origin check that keeps other sites from using a logged-in browser's cookie.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { parseCookie } from 'cookie';
import type { AccessStore } from './store';
import type { Principal } from './roles';

export const SESSION_COOKIE = 'lanewatch_session';

export interface Presented {
  headers: IncomingHttpHeaders;
  /** From the query string or the socket's `auth` payload. */
  token?: unknown;
}

/** The principal behind the credential presented, or undefined (none, unknown, expired, revoked). */
export async function identify(store: AccessStore, { headers, token }: Presented): Promise<Principal | undefined> {
  const bearer = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '')?.[1];
  const presentedToken = bearer ?? (typeof token === 'string' ? token : undefined);
  if (presentedToken !== undefined) return store.tokenPrincipal(presentedToken);
  const session = sessionOf(headers);
  return session === undefined ? undefined : store.sessionPrincipal(session);
}

/** The session id the browser's cookie carries, if any. */
export function sessionOf(headers: IncomingHttpHeaders): string | undefined {
  return headers.cookie === undefined ? undefined : parseCookie(headers.cookie)[SESSION_COOKIE];
}

/**
 * A browser names the page a request comes from in `Origin`. Accept the server's own origin and
 * the configured ones; a request without `Origin` is not from a browser page and has no cookie to
 * abuse that a token would not also need.
 */
export function originAllowed(headers: IncomingHttpHeaders, allowed: readonly string[]): boolean {
  const { origin, host } = headers;
  if (origin === undefined) return true;
  if (allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

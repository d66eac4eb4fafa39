/**
 * Access control on the real server (real Redis, InfluxDB, socket.io client): every route and
 * socket action with no credential, with a role one step too low and with the right one; logging
 * in and out; tokens that are revoked; roles that change; the origin check, CORS and security
 * headers; the login rate limit.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import type { Role } from '../../server/access/roles';
import { SESSION_COOKIE } from '../../server/access/credentials';
import { UNAUTHORIZED } from '../../server/access/socket';
import { startServer, type RunningServer } from '../../server/server';
import type { Ack, ClientToServerEvents, ServerToClientEvents } from '../../server/wire';
import { connectRedis } from '../../storage/redis';
import { grantToken, withAccessStore, withToken } from '../helpers/access';
import { dropStores, isolatedConfig, quietLog } from '../helpers/stores';

const config = isolatedConfig();
let server: RunningServer;
let base: string;
const tokens = {} as Record<Role, string>;
const PASSWORD = 'correct horse battery';
/** Failed logins from this file's tests: the rate limit counts them all (one client address). */
let failedLogins = 0;

beforeAll(async () => {
  server = await startServer(config, quietLog);
  base = `http://127.0.0.1:${server.port}`;
  for (const role of ['viewer', 'manager', 'admin'] as const) tokens[role] = await grantToken(config, role);
  await withAccessStore(config, async (store) => {
    await store.saveUser('maria', 'manager', PASSWORD);
    await store.saveUser('vic', 'viewer', PASSWORD);
    await store.saveUser('rita', 'viewer', PASSWORD);
  });
});

afterAll(async () => {
  await server?.stop();
  await dropStores(config);
});

interface RouteCase {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  role: Role;
  body?: unknown;
}

/** Every route of the API that needs a role (../shared/API.md plus ours), with the least role it needs. */
const ROUTES: RouteCase[] = [
  { method: 'GET', path: '/api/auth/me', role: 'viewer' },
  { method: 'GET', path: '/api/sales', role: 'viewer' },
  { method: 'GET', path: '/api/sales/s1/lanes', role: 'viewer' },
  { method: 'GET', path: '/api/sales/s1/summary', role: 'viewer' },
  { method: 'GET', path: '/api/sales/s1/lanes/1/history?metric=onlineBidders', role: 'viewer' },
  { method: 'GET', path: '/api/auctions/dallas/summary', role: 'viewer' },
  { method: 'GET', path: '/api/alerts', role: 'viewer' },
  { method: 'GET', path: '/api/no-such-route', role: 'viewer' },
  { method: 'GET', path: '/api/alerts/rules', role: 'manager' },
  { method: 'PATCH', path: '/api/alerts/rules', role: 'manager', body: { patch: {} } },
  { method: 'POST', path: '/api/alerts/silences', role: 'manager', body: { sale: 's1', minutes: 5 } },
  { method: 'POST', path: '/api/alerts/some-key/ack', role: 'manager', body: {} },
  { method: 'POST', path: '/api/alerts/some-key/snooze', role: 'manager', body: { minutes: 5 } },
  { method: 'GET', path: '/api/push/vapid-public-key', role: 'manager' },
  { method: 'POST', path: '/api/push/subscriptions', role: 'manager', body: {} },
  { method: 'DELETE', path: '/api/push/subscriptions', role: 'manager', body: { endpoint: 'https://x.example/1' } },
  { method: 'GET', path: '/api/admin/users', role: 'admin' },
  { method: 'PUT', path: '/api/admin/users/newbie', role: 'admin', body: { role: 'viewer', password: PASSWORD } },
  { method: 'PATCH', path: '/api/admin/users/newbie', role: 'admin', body: { role: 'manager' } },
  { method: 'DELETE', path: '/api/admin/users/newbie', role: 'admin' },
  { method: 'GET', path: '/api/admin/tokens', role: 'admin' },
  { method: 'POST', path: '/api/admin/tokens', role: 'admin', body: { name: 'wall 2', role: 'viewer' } },
  { method: 'DELETE', path: '/api/admin/tokens/000000000000', role: 'admin' },
  { method: 'GET', path: '/api/admin/sources', role: 'admin' },
];

const BELOW: Record<Exclude<Role, 'viewer'>, Role> = { manager: 'viewer', admin: 'manager' };

function call(route: Omit<RouteCase, 'role'>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}${route.path}`, {
    method: route.method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(route.body === undefined ? {} : { body: JSON.stringify(route.body) }),
  });
}

describe.each(ROUTES)('$method $path (needs $role)', (route) => {
  it('answers 401 without a credential, and with an unknown token', async () => {
    expect((await call(route)).status).toBe(401);
    expect((await call(route, { authorization: 'Bearer lw_not-a-token' })).status).toBe(401);
  });

  it('lets the right role through', async () => {
    const response = await call(route, { authorization: `Bearer ${tokens[route.role]}` });
    expect([401, 403]).not.toContain(response.status);
  });
});

describe.each(ROUTES.filter((route) => route.role !== 'viewer'))('$method $path (needs $role)', (route) => {
  it('answers 403 to the role below', async () => {
    const below = BELOW[route.role as Exclude<Role, 'viewer'>];
    const response = await call(route, { authorization: `Bearer ${tokens[below]}` });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: string }).error).toContain(`needs the ${route.role} role`);
  });
});

describe('public routes', () => {
  it('serves the health check and the pages without a credential', async () => {
    // 503 = degraded (the stream is empty here): still an answer, not a refusal.
    expect([200, 503]).toContain((await fetch(`${base}/api/health`)).status);
    expect([200, 503]).toContain((await fetch(`${base}/`)).status);
  });
});

describe('logging in', () => {
  const login = async (name: string, password: string) => {
    const response = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, password }),
    });
    if (response.status === 401) failedLogins++;
    return response;
  };
  const cookieOf = (response: Response) => (response.headers.get('set-cookie') ?? '').split(';')[0] as string;

  it('gives a session cookie that is HttpOnly and SameSite=Lax, and says who logged in', async () => {
    const response = await login('maria', PASSWORD);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ name: 'maria', role: 'manager' });
    const setCookie = response.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^lanewatch_session=[\w-]{43}; Max-Age=43200; Path=\/; HttpOnly; SameSite=Lax$/);
    const me = await fetch(`${base}/api/auth/me`, { headers: { cookie: cookieOf(response) } });
    expect(await me.json()).toEqual({ name: 'maria', role: 'manager', via: 'session' });
  });

  it('refuses a wrong password and an unknown user alike', async () => {
    for (const response of [await login('maria', 'wrong password!'), await login('nobody', PASSWORD)]) {
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ error: 'wrong name or password' });
      expect(response.headers.get('set-cookie')).toBeNull();
    }
  });

  it('ends the session on logout', async () => {
    const cookie = cookieOf(await login('maria', PASSWORD));
    const logout = await fetch(`${base}/api/auth/logout`, { method: 'POST', headers: { cookie } });
    expect(logout.status).toBe(204);
    expect((await fetch(`${base}/api/auth/me`, { headers: { cookie } })).status).toBe(401);
  });

  it('records who acted from the login, not from what the client claims', async () => {
    const cookie = cookieOf(await login('maria', PASSWORD));
    const response = await fetch(`${base}/api/alerts/silences`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ sale: 'no-such-sale', minutes: 5, by: 'Someone Else' }),
    });
    // The sale is unknown: the desk answered, so the action went through as maria's.
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: 'no sale "no-such-sale"' });
  });

  it('stores passwords only as scrypt hashes', async () => {
    const redis = connectRedis(config.redis.url, 'access-test');
    const stored = await redis.hget(`${config.redis.stream}:access:users`, 'maria');
    await redis.quit();
    expect(stored).not.toContain(PASSWORD);
    expect(JSON.parse(stored as string)).toMatchObject({
      name: 'maria',
      passwordHash: expect.stringMatching(/^scrypt\$32768\$8\$1\$/),
    });
  });

  it('ends the sessions opened with a password when it is reset, and keeps when the user was made', async () => {
    const old = cookieOf(await login('rita', PASSWORD));
    const me = (cookie: string) => fetch(`${base}/api/auth/me`, { headers: { cookie } });
    expect((await me(old)).status).toBe(200);
    const [before] = (await withAccessStore(config, (store) => store.users())).filter((u) => u.name === 'rita');
    const reset = await call(
      { method: 'PUT', path: '/api/admin/users/rita', body: { role: 'viewer', password: 'a brand new password' } },
      { authorization: `Bearer ${tokens.admin}` },
    );
    expect(await reset.json()).toEqual({ name: 'rita', role: 'viewer', createdAt: before?.createdAt });
    expect((await me(old)).status).toBe(401);
    expect((await login('rita', PASSWORD)).status).toBe(401);
    const fresh = cookieOf(await login('rita', 'a brand new password'));
    expect(await (await me(fresh)).json()).toEqual({ name: 'rita', role: 'viewer', via: 'session' });
  });

  it('lets a user saved by an older build log in, and asks whoever holds an older build’s session to log in again', async () => {
    const redis = connectRedis(config.redis.url, 'access-test');
    const users = `${config.redis.stream}:access:users`;
    const { passwordSetAt, ...older } = JSON.parse((await redis.hget(users, 'vic')) as string) as Record<
      string,
      unknown
    >;
    expect(passwordSetAt).toEqual(expect.any(Number));
    await redis.hset(users, 'vic', JSON.stringify(older));
    const session = 'an-older-build-session-id';
    const digest = createHash('sha256').update(session).digest('hex');
    await redis.set(`${config.redis.stream}:access:session:${digest}`, 'vic', 'EX', 60);
    await redis.quit();

    const me = (cookie: string) => fetch(`${base}/api/auth/me`, { headers: { cookie } });
    expect((await me(`${SESSION_COOKIE}=${session}`)).status).toBe(401);
    const cookie = cookieOf(await login('vic', PASSWORD));
    expect(await (await me(cookie)).json()).toEqual({ name: 'vic', role: 'viewer', via: 'session' });
  });

  it('applies a role change and a removal to open sessions at once', async () => {
    const cookie = cookieOf(await login('vic', PASSWORD));
    const rules = () => fetch(`${base}/api/alerts/rules`, { headers: { cookie } });
    expect((await rules()).status).toBe(403);
    const promote = await call(
      { method: 'PATCH', path: '/api/admin/users/vic', body: { role: 'manager' } },
      { authorization: `Bearer ${tokens.admin}` },
    );
    expect(await promote.json()).toMatchObject({ name: 'vic', role: 'manager' });
    expect((await rules()).status).toBe(200);
    expect((await fetch(`${base}/api/admin/users/vic`, withToken(tokens.admin, { method: 'DELETE' }))).status).toBe(
      204,
    );
    expect((await rules()).status).toBe(401);
  });
});

describe('access tokens', () => {
  it('are made by an admin, shown once, listed without the token, and stop working when revoked', async () => {
    const made = await fetch(
      `${base}/api/admin/tokens`,
      withToken(tokens.admin, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'control-room TV', role: 'viewer' }),
      }),
    );
    expect(made.status).toBe(201);
    const { id, token } = (await made.json()) as { id: string; token: string };
    expect(token).toMatch(/^lw_[\w-]{43}$/);
    // The kiosk URL carries it as a query parameter.
    expect((await fetch(`${base}/api/sales?token=${token}`)).status).toBe(200);
    const listed = JSON.stringify(await (await fetch(`${base}/api/admin/tokens`, withToken(tokens.admin))).json());
    expect(listed).toContain(id);
    expect(listed).not.toContain(token);
    expect((await fetch(`${base}/api/admin/tokens/${id}`, withToken(tokens.admin, { method: 'DELETE' }))).status).toBe(
      204,
    );
    expect((await fetch(`${base}/api/sales`, withToken(token))).status).toBe(401);
  });

  it('refuses a weak password or a bad name with the reason', async () => {
    const response = await call(
      { method: 'PUT', path: '/api/admin/users/shorty', body: { role: 'viewer', password: 'short' } },
      { authorization: `Bearer ${tokens.admin}` },
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'a password needs at least 10 characters' });
  });
});

describe('socket.io', () => {
  const sockets: Socket<ServerToClientEvents, ClientToServerEvents>[] = [];
  afterAll(() => sockets.forEach((socket) => socket.close()));

  function connect(options: { token?: string; headers?: Record<string, string> }): Promise<Socket | Error> {
    const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(`${base}/live`, {
      transports: ['websocket'],
      reconnection: false,
      ...(options.token === undefined ? {} : { auth: { token: options.token } }),
      ...(options.headers === undefined ? {} : { extraHeaders: options.headers }),
    });
    sockets.push(socket);
    return new Promise((resolve) => {
      socket.on('connect', () => resolve(socket));
      socket.on('connect_error', (error) => resolve(error));
    });
  }

  it('refuses a connection without a credential, or with an unknown token', async () => {
    for (const outcome of [await connect({}), await connect({ token: 'lw_nope' })]) {
      expect(outcome).toBeInstanceOf(Error);
      expect((outcome as Error).message).toBe(UNAUTHORIZED);
    }
  });

  it('refuses a page of another site, even with a credential', async () => {
    const outcome = await connect({ token: tokens.admin, headers: { origin: 'http://evil.example' } });
    expect(outcome).toBeInstanceOf(Error);
  });

  it('lets a viewer watch but not act; a manager acts', async () => {
    const viewer = (await connect({ token: tokens.viewer })) as Socket<ServerToClientEvents, ClientToServerEvents>;
    const watched = await viewer.emitWithAck('watch', { sale: 'no-such-sale' });
    expect(watched).toEqual({ ok: false, error: 'unknown sale "no-such-sale"' });
    const refused = (await viewer.emitWithAck('ackAlert', { key: 'some-key' })) as Ack<unknown>;
    expect(refused).toEqual({ ok: false, error: 'this needs the manager role; test viewer is a viewer' });

    const manager = (await connect({ token: tokens.manager })) as Socket<ServerToClientEvents, ClientToServerEvents>;
    const answered = (await manager.emitWithAck('ackAlert', { key: 'some-key' })) as Ack<unknown>;
    expect(answered).toEqual({ ok: false, error: 'no alert "some-key"' });
  });

  it('closes a socket when its token is revoked, its user logs out or loses their role; reconnecting is refused', async () => {
    const closed = (socket: Socket) =>
      new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
    const refusedAgain = (socket: Socket) =>
      new Promise<string>((resolve) => socket.once('connect_error', (error) => resolve(error.message)));

    const token = await grantToken(config, 'viewer', 'wall 3');
    const byToken = (await connect({ token })) as Socket;
    const tokenId = (await withAccessStore(config, (store) => store.tokens())).find((t) => t.name === 'wall 3')?.id;
    const tokenClosed = closed(byToken);
    await withAccessStore(config, (store) => store.revokeToken(tokenId as string));
    expect(await tokenClosed).toBe('transport close');

    await withAccessStore(config, (store) => store.saveUser('lee', 'manager', PASSWORD));
    const session = async () => {
      const login = await fetch(`${base}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'lee', password: PASSWORD }),
      });
      return (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
    };
    const cookie = await session();
    const loggedIn = (await connect({ headers: { cookie } })) as Socket;
    const loggedOut = closed(loggedIn);
    await fetch(`${base}/api/auth/logout`, { method: 'POST', headers: { cookie } });
    expect(await loggedOut).toBe('transport close');

    const again = io(`${base}/live`, { transports: ['websocket'], extraHeaders: { cookie: await session() } });
    sockets.push(again);
    await new Promise<void>((resolve) => again.once('connect', () => resolve()));
    const demoted = closed(again);
    const refused = refusedAgain(again); // it reconnects by itself, and the user is gone by then
    await withAccessStore(config, (store) => store.removeUser('lee'));
    expect(await demoted).toBe('transport close');
    expect(await refused).toBe(UNAUTHORIZED);
  });

  it('takes a logged-in browser’s session cookie', async () => {
    const login = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'maria', password: PASSWORD }),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
    expect(await connect({ headers: { cookie } })).not.toBeInstanceOf(Error);
  });
});

describe('browser protections', () => {
  it('sends security headers', async () => {
    const response = await fetch(`${base}/api/health`);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(response.headers.get('content-security-policy')).not.toContain('upgrade-insecure-requests');
    expect(response.headers.get('x-powered-by')).toBeNull();
  });

  it('keeps CORS closed: no other origin may read or send', async () => {
    const preflight = await fetch(`${base}/api/sales`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'GET' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const forged = await fetch(`${base}/api/alerts/some-key/ack`, {
      method: 'POST',
      headers: { origin: 'http://evil.example', authorization: `Bearer ${tokens.manager}` },
    });
    expect(forged.status).toBe(403);
  });
});

// Last: it locks this address out of logging in for 15 minutes.
describe('login rate limit', () => {
  it('answers 429 after 10 failed logins from one address, even with the right password', async () => {
    const attempt = (password: string) =>
      fetch(`${base}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'maria', password }),
      });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await attempt(`wrong-${i}-password`)).status);
    expect(failedLogins).toBeGreaterThan(0);
    expect(statuses.filter((status) => status === 401).length).toBe(10 - failedLogins);
    expect(statuses.slice(-4)).toEqual([429, 429, 429, 429]);
    expect((await attempt(PASSWORD)).status).toBe(429);
  });
});

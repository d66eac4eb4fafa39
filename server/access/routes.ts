/**
 * `/api/auth…` (log in and out, who am I) and `/api/admin…` (users and access tokens, admin only).
 * Logging in is the one route that takes a password, so it is rate limited per client address:
 * failed attempts only, 10 per 15 minutes.
 */
import { Router, type Request, type Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import { stringifySetCookie } from 'cookie';
import { z } from 'zod';
import { badRequest } from '../routes/bad-request';
import { SESSION_COOKIE, sessionOf } from './credentials';
import { principalOf, requireRole } from './http';
import { ROLES } from './roles';
import { AccessError, type AccessStore } from './store';

const LOGIN_WINDOW_MS = 15 * 60_000;
const LOGIN_FAILURES = 10;

const login = z.object({ name: z.string().min(1).max(64), password: z.string().min(1).max(1024) });
const newUser = z.object({ role: z.enum(ROLES), password: z.string().min(1).max(1024) });
const roleChange = z.object({ role: z.enum(ROLES) });
const newToken = z.object({ name: z.string().min(1).max(64), role: z.enum(ROLES) });

export function accessRoutes(store: AccessStore, sessionTtlSec: number): Router {
  const router = Router();
  const sessionCookie = (req: Request, value: string, maxAge: number) =>
    stringifySetCookie(SESSION_COOKIE, value, {
      httpOnly: true,
      // Lax: sent when a manager follows a link to the server, not with another site's requests.
      sameSite: 'lax',
      secure: req.secure,
      path: '/',
      maxAge,
    });

  const limiter = rateLimit({
    windowMs: LOGIN_WINDOW_MS,
    limit: LOGIN_FAILURES,
    skipSuccessfulRequests: true,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, res) => {
      res.status(429).json({ error: 'too many failed logins from this address; try again in 15 minutes' });
    },
  });
  router.post('/auth/login', limiter, async (req, res) => {
    const body = login.safeParse(req.body);
    if (!body.success) return badRequest(res, body.error);
    const done = await store.login(body.data.name, body.data.password);
    if (!done) {
      res.status(401).json({ error: 'wrong name or password' });
      return;
    }
    res.set('Set-Cookie', sessionCookie(req, done.session, sessionTtlSec));
    res.json({ name: done.user.name, role: done.user.role });
  });
  router.post('/auth/logout', async (req, res) => {
    const session = sessionOf(req.headers);
    if (session !== undefined) await store.logout(session);
    res.set('Set-Cookie', sessionCookie(req, '', 0));
    res.status(204).end();
  });
  router.get('/auth/me', requireRole('viewer'), (_req, res) => {
    const { name, role, via } = principalOf(res);
    res.json({ name, role, via });
  });

  const admin = requireRole('admin');
  router.get('/admin/users', admin, async (_req, res) => {
    res.json(await store.users());
  });
  router.put('/admin/users/:name', admin, async (req, res) => {
    const body = newUser.safeParse(req.body);
    if (!body.success) return badRequest(res, body.error);
    await refusing(res, async () =>
      res.json(await store.saveUser(String(req.params.name), body.data.role, body.data.password)),
    );
  });
  router.patch('/admin/users/:name', admin, async (req, res) => {
    const body = roleChange.safeParse(req.body);
    if (!body.success) return badRequest(res, body.error);
    const user = await store.setRole(String(req.params.name), body.data.role);
    if (!user) res.status(404).json({ error: `no user ${JSON.stringify(req.params.name)}` });
    else res.json(user);
  });
  router.delete('/admin/users/:name', admin, async (req, res) => {
    if (await store.removeUser(String(req.params.name))) res.status(204).end();
    else res.status(404).json({ error: `no user ${JSON.stringify(req.params.name)}` });
  });
  router.get('/admin/tokens', admin, async (_req, res) => {
    res.json(await store.tokens());
  });
  router.post('/admin/tokens', admin, async (req, res) => {
    const body = newToken.safeParse(req.body);
    if (!body.success) return badRequest(res, body.error);
    const by = principalOf(res).name;
    await refusing(res, async () => {
      const { token, info } = await store.createToken(body.data.name, body.data.role, by);
      res.status(201).json({ ...info, token });
    });
  });
  router.delete('/admin/tokens/:id', admin, async (req, res) => {
    if (await store.revokeToken(String(req.params.id))) res.status(204).end();
    else res.status(404).json({ error: `no token ${JSON.stringify(req.params.id)}` });
  });
  return router;
}

/** Runs `work`; an AccessError (a bad name, a short password) becomes a 400 with its reason. */
async function refusing(res: Response, work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (!(error instanceof AccessError)) throw error;
    res.status(400).json({ error: error.message });
  }
}

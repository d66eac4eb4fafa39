/**
 * Access control for the REST API. `identifyRequests` runs first on every `/api` request and
 * puts the principal (if any) in `res.locals.principal`; `requireRole` then guards a router or a
 * route. The API is closed by default: server/app.ts mounts `requireRole('viewer')` before every
 * router but the public ones (health, login).
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { identify, originAllowed } from './credentials';
import { refusal, type Principal, type Role } from './roles';
import type { AccessStore } from './store';

declare module 'express' {
  interface Locals {
    principal?: Principal;
  }
}

export function identifyRequests(store: AccessStore, allowedOrigins: readonly string[]): RequestHandler {
  return (req, res, next) => {
    // A state-changing request from another site's page would ride on the browser's cookie.
    if (req.method !== 'GET' && req.method !== 'HEAD' && !originAllowed(req.headers, allowedOrigins)) {
      res.status(403).json({ error: `requests from ${req.headers.origin} are not allowed` });
      return;
    }
    identify(store, { headers: req.headers, token: req.query.token }).then((principal) => {
      if (principal) res.locals.principal = principal;
      next();
    }, next);
  };
}

/** 401 without a (valid) credential, 403 with one whose role is below `role`. */
export function requireRole(role: Role): RequestHandler {
  return (_req: Request, res: Response, next: NextFunction) => {
    const { principal } = res.locals;
    if (!principal) {
      res.status(401).set('WWW-Authenticate', 'Bearer').json({ error: 'log in, or present an access token' });
    } else {
      const refused = refusal(principal, role);
      if (refused === undefined) next();
      else res.status(403).json({ error: refused });
    }
  };
}

/** The principal a `requireRole` guard let through. */
export function principalOf(res: Response): Principal {
  const { principal } = res.locals;
  if (!principal) throw new Error('principalOf used on a route without requireRole');
  return principal;
}

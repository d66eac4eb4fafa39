import express, { Router } from 'express';
import { SubscriptionError, type PushStore } from './push-store';

/**
 * `/push…` (mounted under `/api`): what a phone's service worker needs to subscribe to alerts.
 * `GET /push/vapid-public-key` → `{ publicKey }` (the `applicationServerKey` for `pushManager.subscribe`);
 * `POST /push/subscriptions` with `subscription.toJSON()` → `201 { id }` (`200` when already known);
 * `DELETE /push/subscriptions` with `{ endpoint }` → `204` (`404` when unknown).
 */
export function pushRoutes(store: PushStore): Router {
  const router = Router();
  const json = express.json({ limit: '8kb' });
  router.get('/push/vapid-public-key', async (_req, res) => {
    res.json({ publicKey: (await store.vapidKeys()).publicKey });
  });
  router.post('/push/subscriptions', json, async (req, res) => {
    try {
      const { id, created } = await store.subscribe(req.body);
      res.status(created ? 201 : 200).json({ id });
    } catch (error) {
      if (!(error instanceof SubscriptionError)) throw error;
      res.status(400).json({ error: 'invalid push subscription', reasons: error.reasons });
    }
  });
  router.delete('/push/subscriptions', json, async (req, res) => {
    const endpoint: unknown = (req.body as { endpoint?: unknown } | undefined)?.endpoint;
    if (typeof endpoint !== 'string') return void res.status(400).json({ error: 'body must be { endpoint }' });
    if (await store.unsubscribe(endpoint)) res.status(204).end();
    else res.status(404).json({ error: 'no such subscription' });
  });
  return router;
}

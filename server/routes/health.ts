import { Router } from 'express';
import type { Health } from '../wire';

export interface HealthProbes {
  influx(): Promise<boolean>;
  redis(): Promise<boolean>;
  streamLagMs(): Promise<number | null>;
}

/** The server is degraded when a store does not answer or it trails the live bus by this much. */
const MAX_HEALTHY_LAG_MS = 5000;

/** `GET /api/health`: can the server read the live bus and reach history? */
export function healthRoutes(probes: HealthProbes): Router {
  const router = Router();
  router.get('/health', async (_req, res) => {
    const [influx, redis] = await Promise.all([probes.influx(), probes.redis()]);
    const streamLagMs = redis ? await probes.streamLagMs().catch(() => null) : null;
    const lagging = streamLagMs === null || streamLagMs > MAX_HEALTHY_LAG_MS;
    const health: Health = { status: influx && redis && !lagging ? 'ok' : 'degraded', influx, redis, streamLagMs };
    res.status(health.status === 'ok' ? 200 : 503).json(health);
  });
  return router;
}

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import cors from 'cors';
import express, { type Express, type Router } from 'express';
import helmet from 'helmet';
import type { Config } from '../config';
import type { InfluxStore } from '../storage/influxdb';
import { identifyRequests, requireRole } from './access/http';
import { accessRoutes } from './access/routes';
import type { AccessStore } from './access/store';
import type { AlertDesk } from './alert-desk';
import { alertRoutes } from './routes/alerts';
import { healthRoutes, type HealthProbes } from './routes/health';
import { historyRoutes } from './routes/history';
import { salesRoutes } from './routes/sales';
import { sourceRoutes } from './routes/sources';
import type { SaleBoard } from './sale-board';

const UI_DIST = fileURLToPath(new URL('../ui/dist', import.meta.url));

export interface AppAccess extends Pick<Config['access'], 'sessionTtlSec' | 'corsOrigins' | 'trustProxy'> {
  store: AccessStore;
}

/**
 * The HTTP surface: the REST API under `/api` and the built wall display at `/`. The API is closed
 * by default: apart from the health check and logging in, every route needs at least a viewer,
 * and some more (see each router). The pages themselves hold no data and are served to anyone.
 */
export function createApp(
  board: SaleBoard,
  probes: HealthProbes,
  influx: () => InfluxStore | undefined,
  access: AppAccess,
  alerts?: { desk: AlertDesk; push: Router },
  /** The collector's sources' status hash (storage/source-status.ts), source name → JSON. */
  collectorSources?: () => Promise<Record<string, string>>,
): Express {
  const app = express();
  app.disable('x-powered-by');
  if (access.trustProxy !== undefined) app.set('trust proxy', access.trustProxy);
  // Served over plain HTTP on a LAN too: upgrading its requests to HTTPS would break the page.
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  if (access.corsOrigins.length > 0) app.use('/api', cors({ origin: access.corsOrigins, credentials: true }));
  app.use('/api', express.json({ limit: '64kb' }));
  app.use('/api', identifyRequests(access.store, access.corsOrigins));
  app.use('/api', healthRoutes(probes), accessRoutes(access.store, access.sessionTtlSec));
  app.use('/api', requireRole('viewer'));
  app.use('/api', salesRoutes(board, influx), historyRoutes(influx));
  if (alerts) {
    app.use('/api/push', requireRole('manager'));
    app.use('/api', alertRoutes(alerts.desk), alerts.push);
  }
  if (collectorSources) {
    app.use('/api/admin/sources', requireRole('admin'));
    app.use('/api', sourceRoutes(collectorSources));
  }
  app.use('/api', (_req, res) => {
    res.status(404).json({ error: 'no such route' });
  });
  if (existsSync(UI_DIST)) {
    app.use(express.static(UI_DIST));
    // The phone app (ui/m) for any path under /m/; express.static already redirects /m → /m/.
    app.get('/m/{*path}', (_req, res) => res.sendFile('m/index.html', { root: UI_DIST }));
    app.get('/{*path}', (_req, res) => res.sendFile('index.html', { root: UI_DIST }));
  } else {
    app.get('/', (_req, res) => {
      res.status(503).type('text').send('The wall display is not built yet: run `npm run build`.');
    });
  }
  return app;
}

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import express, { type Express, type Router } from 'express';
import type { InfluxStore } from '../storage/influxdb';
import type { AlertDesk } from './alert-desk';
import { alertRoutes } from './routes/alerts';
import { healthRoutes, type HealthProbes } from './routes/health';
import { historyRoutes } from './routes/history';
import { salesRoutes } from './routes/sales';
import type { SaleBoard } from './sale-board';

const UI_DIST = fileURLToPath(new URL('../ui/dist', import.meta.url));

/** The HTTP surface: the REST API under `/api` and the built wall display at `/`. */
export function createApp(
  board: SaleBoard,
  probes: HealthProbes,
  influx: () => InfluxStore | undefined,
  alerts?: { desk: AlertDesk; push: Router },
): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use('/api', express.json({ limit: '64kb' }));
  app.use('/api', healthRoutes(probes), salesRoutes(board, influx), historyRoutes(influx));
  if (alerts) app.use('/api', alertRoutes(alerts.desk), alerts.push);
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

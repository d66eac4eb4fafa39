import type { Server } from 'node:http';
import express from 'express';
import type { CollectorConfig } from '../config';
import type { CollectorMetrics } from './metrics';
import type { Pipeline } from './pipeline';
import { ingestRoutes, type WebhookSource } from './sources/webhook';

/**
 * The collector's own HTTP port: webhook ingest, health, and what it has received, accepted and
 * rejected.
 */
export function startCollectorHttp(
  listen: Pick<CollectorConfig, 'port' | 'host' | 'ingestMaxBytes'>,
  pipeline: Pipeline,
  webhooks: readonly WebhookSource[],
  metrics: CollectorMetrics,
): Promise<Server> {
  const app = express();
  app.disable('x-powered-by');
  app.use(ingestRoutes(webhooks, pipeline, { maxBodyBytes: listen.ingestMaxBytes }));
  app.get('/health', (_req, res) => {
    const stats = pipeline.stats();
    const backedUp = Object.values(stats.sinks).some((sink) => sink.queuedBatches > 1);
    res.status(backedUp ? 503 : 200).json({ status: backedUp ? 'degraded' : 'ok', ...stats });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.get('/dead-letters', (_req, res) => {
    res.json(pipeline.deadLetters());
  });
  return new Promise((resolve, reject) => {
    // Express 5 calls back with the error too (EADDRINUSE), not only once listening.
    const server = app.listen(listen.port, listen.host, (error) => (error ? reject(error) : resolve(server)));
  });
}

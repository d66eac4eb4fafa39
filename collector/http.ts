import type { Server } from 'node:http';
import express from 'express';
import type { Pipeline } from './pipeline';

/** The collector's own HTTP port: health and what it has received, accepted and rejected. */
export function startCollectorHttp(port: number, pipeline: Pipeline): Promise<Server> {
  const app = express();
  app.disable('x-powered-by');
  app.get('/health', (_req, res) => {
    const stats = pipeline.stats();
    const backedUp = Object.values(stats.sinks).some((sink) => sink.queuedBatches > 1);
    res.status(backedUp ? 503 : 200).json({ status: backedUp ? 'degraded' : 'ok', ...stats });
  });
  app.get('/dead-letters', (_req, res) => {
    res.json(pipeline.deadLetters());
  });
  return new Promise((resolve, reject) => {
    const server = app.listen(port, '127.0.0.1', () => resolve(server));
    server.once('error', reject);
  });
}

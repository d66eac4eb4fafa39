import { pino } from 'pino';
import { loadConfig } from '../config';
import { startCollector } from './collector';
import { buildSources } from './sources';

const config = loadConfig();
const log = pino({ name: 'collector', level: config.logLevel });

const { feeds, webhooks } = buildSources(config.collector.sources, { simulator: config.simulator, log });
const collector = await startCollector(config, feeds, log, webhooks).catch((error: unknown) => {
  log.fatal({ err: error }, 'collector failed to start');
  process.exit(1);
});
void collector.finished.then(() => log.info({ stats: collector.pipeline.stats() }, 'every pulled feed has ended'));

async function shutdown(signal: string): Promise<void> {
  log.info({ signal }, 'shutting down');
  await collector.stop();
  process.exit(0);
}
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));

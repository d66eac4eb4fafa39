import { pino } from 'pino';
import { loadConfig } from '../config';
import { startServer } from './server';

const config = loadConfig();
const log = pino({ name: 'server', level: config.logLevel });
const server = await startServer(config, log).catch((error: unknown) => {
  log.fatal({ err: error }, 'server failed to start');
  process.exit(1);
});

async function shutdown(signal: string): Promise<void> {
  log.info({ signal }, 'shutting down');
  await server.stop();
  process.exit(0);
}
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));

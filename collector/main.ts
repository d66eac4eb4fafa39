import { pino } from 'pino';
import { loadConfig } from '../config';
import { startCollector } from './collector';
import { SimulatorSource, simulateSale } from './sources/simulator';

const config = loadConfig();
const log = pino({ name: 'collector', level: config.logLevel });

const sale = simulateSale(config.simulator);
log.info(
  { sale: sale.sale, lanes: sale.lanes.length, speed: config.simulator.speed, incidents: sale.incidents },
  'simulating a sale',
);
const collector = await startCollector(
  config,
  [{ source: new SimulatorSource(sale, config.simulator.speed) }],
  log,
).catch((error: unknown) => {
  log.fatal({ err: error }, 'collector failed to start');
  process.exit(1);
});
void collector.finished.then(() => log.info({ stats: collector.pipeline.stats() }, 'simulated sale delivered'));

async function shutdown(signal: string): Promise<void> {
  log.info({ signal }, 'shutting down');
  await collector.stop();
  process.exit(0);
}
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));

/**
 * Runs a fast simulated sale through the real collector while one store is taken down for a
 * while and brought back: that store's own server is started here, on its own loopback port and
 * data directory, so stopping it disturbs no other test.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../../config';
import { startCollector } from '../../collector/collector';
import type { LaneEvent } from '../../collector/events';
import type { SourceCounters } from '../../collector/pipeline';
import type { SinkCounters } from '../../collector/sink-writer';
import { SimulatorSource, simulateSale, type SimulatedSale } from '../../collector/sources/simulator';
import { startServices, type RunningServices } from '../../scripts/services';
import { connectRedis } from '../../storage/redis';
import { busEvents } from './bus';
import { isolatedConfig, quietLog } from './stores';

export interface OutageRun {
  config: Config;
  sale: SimulatedSale;
  emitted: LaneEvent[];
  /** Events per second the simulator fed in. */
  rate: number;
  /** Pipeline counts sampled while the store was down. */
  duringOutage: { sinks: Record<string, SinkCounters> };
  final: { sources: Record<string, SourceCounters>; sinks: Record<string, SinkCounters> };
  streamIds: string[];
  cleanup(): Promise<void>;
}

export async function runThroughOutage(options: {
  store: 'influxdb' | 'redis';
  port: number;
  downAfterMs: number;
  downForMs: number;
  /** Simulated seconds per second; 8 lanes make ~4.8 events per simulated second. */
  speed: number;
  durationMin: number;
}): Promise<OutageRun> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `lanewatch-${options.store}-`));
  const own: Record<string, string> =
    options.store === 'influxdb'
      ? { INFLUX_URL: `http://127.0.0.1:${options.port}` }
      : { REDIS_URL: `redis://127.0.0.1:${options.port}` };
  const config = isolatedConfig(own);
  const quiet = { dataDir, log: () => {} };
  let services: RunningServices = await startServices(config, quiet);

  const sale = simulateSale({
    seed: 5,
    lanes: 8,
    durationMin: options.durationMin,
    speed: options.speed,
    auction: 'outage',
    start: undefined,
  });
  const started = performance.now();
  const collector = await startCollector(config, [{ source: new SimulatorSource(sale, options.speed) }], quietLog);
  await sleep(options.downAfterMs);
  await services.stop();
  await sleep(options.downForMs - 2000);
  const duringOutage = { sinks: collector.pipeline.stats().sinks };
  await sleep(2000);
  services = await startServices(config, quiet);
  await collector.finished;
  const elapsedSec = (performance.now() - started) / 1000;
  await collector.pipeline.drain();
  const final = collector.pipeline.stats();
  await collector.stop();

  const emitted = [...sale.events()];
  const streamIds = (await busEvents(config.redis.url, config.redis.stream)).map((e) => e.id);
  const redis = connectRedis(config.redis.url, 'outage-test');
  await redis.del(config.redis.stream);
  await redis.quit();
  return {
    config,
    sale,
    emitted,
    rate: emitted.length / Math.min(elapsedSec, (options.durationMin * 60) / options.speed),
    duringOutage,
    final,
    streamIds,
    async cleanup() {
      await services.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

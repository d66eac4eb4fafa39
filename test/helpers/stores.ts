/**
 * Each integration test gets its own InfluxDB database and Redis stream on the real servers that
 * the global setup started, and removes them afterwards.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { pino } from 'pino';
import { loadConfig, type Config } from '../../config';
import { connectInflux } from '../../storage/influxdb';
import { connectRedis } from '../../storage/redis';
import { sourceStatusKey } from '../../storage/source-status';

export const quietLog = pino({ level: 'silent' });

export function isolatedConfig(env: Record<string, string> = {}): Config {
  const id = randomUUID().slice(0, 8);
  return loadConfig({
    INFLUX_URL: inject('influxUrl'),
    REDIS_URL: inject('redisUrl'),
    INFLUX_DB: `lanewatch_test_${id}`,
    REDIS_STREAM: `lanewatch:test:${id}:events`,
    PORT: '0',
    COLLECTOR_PORT: '0',
    SPOOL_DIR: fs.mkdtempSync(path.join(os.tmpdir(), `lanewatch-spool-${id}-`)),
    LOG_LEVEL: 'silent',
    ...env,
  });
}

export async function dropStores(config: Config): Promise<void> {
  const influx = await connectInflux(config.influx);
  await influx.query(`DROP DATABASE "${config.influx.database}"`);
  await influx.close();
  const redis = connectRedis(config.redis.url, 'lanewatch-test');
  // The stream, its event counter, the server's checkpoint of it, the collector's sources' status,
  // and the users and tokens of the tests.
  await redis.del(
    config.redis.stream,
    `${config.redis.stream}:events`,
    `${config.redis.stream}:checkpoint`,
    sourceStatusKey(config.redis.stream),
  );
  const access = await redis.keys(`${config.redis.stream}:access:*`);
  if (access.length > 0) await redis.del(...access);
  await redis.quit();
  fs.rmSync(config.collector.spool.dir, { recursive: true, force: true });
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

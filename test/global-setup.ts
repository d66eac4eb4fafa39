/**
 * Vitest global setup: one InfluxDB and one Redis for the whole run, reused when already up (a
 * demo, `npm run services`), otherwise started here and stopped after the last test. Tests
 * read the URLs with `inject('influxUrl')` / `inject('redisUrl')` and create their own
 * databases and keys.
 */
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../config';
import { startServices } from '../scripts/services';

declare module 'vitest' {
  export interface ProvidedContext {
    influxUrl: string;
    redisUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const services = await startServices(loadConfig(), { log: (line) => console.log(`[services] ${line}`) });
  project.provide('influxUrl', services.influxUrl);
  project.provide('redisUrl', services.redisUrl);
  return () => services.stop();
}

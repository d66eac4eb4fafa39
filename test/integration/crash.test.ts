/**
 * A collector process SIGKILLed while it spools (its InfluxDB is down) and started again loses
 * nothing it acknowledged: a 202 from the webhook means the events were on disk.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LaneEvent } from '../../collector/events';
import { measurementOf } from '../../collector/sinks/influxdb';
import { simulateSale } from '../../collector/sources/simulator';
import { startServices, type RunningServices } from '../../scripts/services';
import { connectInflux, quoteLiteral } from '../../storage/influxdb';
import { connectRedis } from '../../storage/redis';
import { busEvents } from '../helpers/bus';
import { eventually, isolatedConfig } from '../helpers/stores';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const INFLUX_PORT = 18096;
const COLLECTOR_PORT = 18490;
const SECRET = 'crash-test-secret';
const REQUEST_SIZE = 250;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lanewatch-crash-'));
const config = isolatedConfig({ INFLUX_URL: `http://127.0.0.1:${INFLUX_PORT}` });
const configFile = path.join(dir, 'collector.json');
fs.writeFileSync(
  configFile,
  JSON.stringify({
    sources: [{ type: 'webhook', name: 'platform', auth: { scheme: 'bearer', secret: 'env:HOOK_SECRET' } }],
  }),
);
const env = {
  ...process.env,
  INFLUX_URL: config.influx.url,
  INFLUX_DB: config.influx.database,
  REDIS_URL: config.redis.url,
  REDIS_STREAM: config.redis.stream,
  SPOOL_DIR: config.collector.spool.dir,
  COLLECTOR_PORT: String(COLLECTOR_PORT),
  COLLECTOR_CONFIG: configFile,
  HOOK_SECRET: SECRET,
  LOG_LEVEL: 'warn',
};
const events = [
  ...simulateSale({ seed: 4, lanes: 4, durationMin: 60, speed: 0, auction: 'crash', start: undefined }).events(),
];
const requests: LaneEvent[][] = [];
for (let i = 0; i < events.length; i += REQUEST_SIZE) requests.push(events.slice(i, i + REQUEST_SIZE));

let influxd: RunningServices;
const quietServices = { dataDir: path.join(dir, 'services'), log: () => {} };
const acknowledged: number[] = [];
let inFlightAtKill: number | undefined;
let spooledBeforeKill = 0;

function startCollectorProcess(): ChildProcess {
  const log = fs.openSync(path.join(dir, 'collector.log'), 'a');
  return spawn(process.execPath, ['--import', 'tsx', 'collector/main.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', log, log],
  });
}

async function health(): Promise<
  { sinks: Record<string, { spoolPendingEvents: number; written: number }> } | undefined
> {
  try {
    const response = await fetch(`http://127.0.0.1:${COLLECTOR_PORT}/health`);
    return (await response.json()) as { sinks: Record<string, { spoolPendingEvents: number; written: number }> };
  } catch {
    return undefined;
  }
}

function post(batch: readonly LaneEvent[]): Promise<Response> {
  return fetch(`http://127.0.0.1:${COLLECTOR_PORT}/ingest/platform`, {
    method: 'POST',
    headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' },
    body: JSON.stringify(batch),
  });
}

beforeAll(async () => {
  influxd = await startServices(config, quietServices);
  let collector = startCollectorProcess();
  await eventually(health, 30_000);
  await influxd.stop();

  // Post until well into the spool, then kill -9 with a request still on its way.
  const killAt = Math.floor(requests.length * 0.6);
  for (let i = 0; i < requests.length; i++) {
    if (i === killAt) {
      inFlightAtKill = i;
      spooledBeforeKill = (await health())?.sinks.influxdb?.spoolPendingEvents ?? 0;
      const pending = post(requests[i] as LaneEvent[]).then(
        (r) => r.status,
        () => 0,
      );
      collector.kill('SIGKILL');
      if ((await pending) === 202) acknowledged.push(i);
      break;
    }
    const response = await post(requests[i] as LaneEvent[]);
    expect(response.status).toBe(202);
    acknowledged.push(i);
  }
  await new Promise((resolve) => collector.once('exit', resolve));

  influxd = await startServices(config, quietServices);
  collector = startCollectorProcess();
  await eventually(health, 30_000);
  // A client re-sends what was not acknowledged, as webhook clients do.
  for (let i = 0; i < requests.length; i++) {
    if (!acknowledged.includes(i)) expect((await post(requests[i] as LaneEvent[])).status).toBe(202);
  }
  await eventually(async () => {
    const h = await health();
    return h && h.sinks.influxdb?.spoolPendingEvents === 0 && h.sinks.redis?.spoolPendingEvents === 0 ? h : undefined;
  }, 60_000);
  collector.kill('SIGTERM');
  await new Promise((resolve) => collector.once('exit', resolve));
}, 180_000);

afterAll(async () => {
  const influx = await connectInflux(config.influx).catch(() => undefined);
  await influx?.query(`DROP DATABASE "${config.influx.database}"`);
  await influx?.close();
  await influxd?.stop();
  const redis = connectRedis(config.redis.url, 'crash-test');
  await redis.del(config.redis.stream);
  await redis.quit();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('collector killed with -9 while spooling', () => {
  it('was spooling when it was killed', () => {
    expect(inFlightAtKill).toBeDefined();
    expect(spooledBeforeKill).toBeGreaterThan(1000);
  });

  it('ends with every event in InfluxDB exactly once', async () => {
    const influx = await connectInflux(config.influx);
    const series = await influx.query(
      `SELECT count("id") FROM /.*/ WHERE sale = ${quoteLiteral(events[0]?.sale ?? '')}`,
    );
    await influx.close();
    const stored = Object.fromEntries(series.map((s) => [s.name, s.values[0]?.[1]]));
    const expected: Record<string, number> = {};
    for (const e of events) expected[measurementOf(e.type)] = (expected[measurementOf(e.type)] ?? 0) + 1;
    expect(stored).toEqual(expected);
  });

  it('has every event on the live stream, repeated at most within the request cut off by the kill', async () => {
    const ids = (await busEvents(config.redis.url, config.redis.stream)).map((e) => e.id);
    expect(new Set(ids)).toEqual(new Set(events.map((e) => e.id)));
    const repeated = ids.filter((id, i) => ids.indexOf(id) !== i);
    const cutOff = new Set((requests[inFlightAtKill ?? -1] ?? []).map((e) => e.id));
    expect(repeated.every((id) => cutOff.has(id))).toBe(true);
  });
});

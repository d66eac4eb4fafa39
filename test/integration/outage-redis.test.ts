/**
 * Redis down for 60 s in the middle of a sale fed at > 2,000 events/s: history carries on, the live
 * bus's share waits in the disk spool, and afterwards the stream holds every event exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectInflux, quoteLiteral } from '../../storage/influxdb';
import { runThroughOutage, type OutageRun } from '../helpers/outage';

let run: OutageRun;

beforeAll(async () => {
  run = await runThroughOutage({
    store: 'redis',
    port: 16390,
    downAfterMs: 5000,
    downForMs: 60_000,
    speed: 500,
    durationMin: 640,
  });
}, 180_000);

afterAll(async () => {
  const influx = await connectInflux(run.config.influx);
  await influx.query(`DROP DATABASE "${run.config.influx.database}"`);
  await influx.close();
  await run?.cleanup();
});

describe('Redis down for 60 s mid-sale', () => {
  it('was fed faster than 2,000 events/s', () => {
    expect(run.rate).toBeGreaterThan(2000);
  });

  it('spooled the live bus to disk while Redis was down, and kept writing history', () => {
    expect(run.duringOutage.sinks.redis?.spoolPendingEvents).toBeGreaterThan(50_000);
    expect(run.duringOutage.sinks.influxdb?.spooled).toBe(0);
  });

  it('holds every event on the stream exactly once, in order', () => {
    expect(run.streamIds).toEqual(run.emitted.map((e) => e.id));
    expect(run.final.sinks.redis).toMatchObject({
      written: run.emitted.length,
      spoolDropped: 0,
      spoolPendingEvents: 0,
    });
  });

  it('wrote all of history meanwhile', async () => {
    const influx = await connectInflux(run.config.influx);
    const series = await influx.query(`SELECT count("id") FROM /.*/ WHERE sale = ${quoteLiteral(run.sale.sale)}`);
    await influx.close();
    expect(series.reduce((sum, s) => sum + Number(s.values[0]?.[1]), 0)).toBe(run.emitted.length);
  });
});

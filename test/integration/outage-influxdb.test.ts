/**
 * InfluxDB down for 60 s in the middle of a sale fed at > 2,000 events/s: the live bus carries on,
 * InfluxDB's share waits in the disk spool, and afterwards InfluxDB holds exactly the accepted
 * events — no loss, no duplicate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measurementOf } from '../../collector/sinks/influxdb';
import type { LaneEvent } from '../../collector/events';
import { connectInflux, quoteLiteral, type InfluxStore } from '../../storage/influxdb';
import { runThroughOutage, type OutageRun } from '../helpers/outage';

let run: OutageRun;
let influx: InfluxStore;

beforeAll(async () => {
  run = await runThroughOutage({
    store: 'influxdb',
    port: 18086,
    downAfterMs: 5000,
    downForMs: 60_000,
    speed: 500,
    durationMin: 640,
  });
  influx = await connectInflux(run.config.influx);
}, 180_000);

afterAll(async () => {
  await influx?.query(`DROP DATABASE "${run.config.influx.database}"`);
  await influx?.close();
  await run?.cleanup();
});

function countByMeasurement(events: readonly LaneEvent[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of events) counts[measurementOf(e.type)] = (counts[measurementOf(e.type)] ?? 0) + 1;
  return counts;
}

describe('InfluxDB down for 60 s mid-sale', () => {
  it('was fed faster than 2,000 events/s', () => {
    expect(run.rate).toBeGreaterThan(2000);
  });

  it('spooled to disk while InfluxDB was down, and kept the live bus going', () => {
    expect(run.duringOutage.sinks.influxdb?.spoolPendingEvents).toBeGreaterThan(50_000);
    expect(run.duringOutage.sinks.redis?.written).toBeGreaterThan(run.duringOutage.sinks.influxdb?.written ?? 0);
    expect(run.duringOutage.sinks.redis?.spooled).toBe(0);
  });

  it('holds exactly the accepted events afterwards, counted per kind', async () => {
    expect(run.final.sources.simulator?.accepted).toBe(run.emitted.length);
    const series = await influx.query(`SELECT count("id") FROM /.*/ WHERE sale = ${quoteLiteral(run.sale.sale)}`);
    const stored = Object.fromEntries(series.map((s) => [s.name, s.values[0]?.[1]]));
    expect(stored).toEqual(countByMeasurement(run.emitted));
    expect(run.final.sinks.influxdb).toMatchObject({
      written: run.emitted.length,
      refused: 0,
      spoolDropped: 0,
      spoolPendingEvents: 0,
    });
  });

  it('stored the spooled events with their values', async () => {
    const sold = run.emitted.filter(
      (e): e is Extract<LaneEvent, { type: 'vehicle.sold' }> => e.type === 'vehicle.sold',
    );
    const sample = sold.filter((_, i) => i % Math.ceil(sold.length / 20) === 0);
    for (const event of sample) {
      const [series] = await influx.query(
        `SELECT "price", "run" FROM "vehicle_sold" WHERE "id" = ${quoteLiteral(event.id)}`,
      );
      expect(series?.values).toEqual([[event.ts, event.price, event.run]]);
    }
  });

  it('put each event on the live stream once', () => {
    expect(run.streamIds).toHaveLength(run.emitted.length);
    expect(new Set(run.streamIds).size).toBe(run.emitted.length);
  });
});

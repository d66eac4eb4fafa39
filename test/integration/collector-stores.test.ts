/**
 * Simulator → collector pipeline → the real InfluxDB and Redis: everything the simulator emitted is
 * stored once, readable back with InfluxQL and on the live stream, and bad input loses nothing else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LaneEvent } from '../../collector/events';
import { startCollector, type RunningCollector } from '../../collector/collector';
import { measurementOf, toLines } from '../../collector/sinks/influxdb';
import { SimulatorSource, simulateSale } from '../../collector/sources/simulator';
import type { Source } from '../../collector/sources/source';
import { connectInflux, quoteLiteral, type InfluxStore } from '../../storage/influxdb';
import { busEvents } from '../helpers/bus';
import { dropStores, isolatedConfig, quietLog } from '../helpers/stores';

const config = isolatedConfig();
const sale = simulateSale({
  seed: 7,
  lanes: 3,
  durationMin: 12,
  speed: 0,
  auction: 'testville',
  start: Date.UTC(2026, 10, 23, 14, 0),
});
const emitted = [...sale.events()];

/** A feed with a malformed message after every good one. */
function withBadNeighbours(events: readonly LaneEvent[]): Source {
  const base = events.find((e) => 'lane' in e) as LaneEvent;
  const bad: unknown[] = [
    { type: 'attendance' },
    'not an event',
    { ...base, type: 'attendance', online: -1 },
    { ...base, type: 'attendance', online: 3, ts: 1_700_000_000 },
    null,
    [1, 2, 3],
    { ...base, type: 'bid', run: 1, amount: 10, channel: 'phone' },
  ];
  return {
    name: 'mixed-feed',
    async *messages() {
      for (const [i, event] of events.entries()) {
        yield event;
        yield bad[i % bad.length];
      }
    },
  };
}

let collector: RunningCollector;
let influx: InfluxStore;

beforeAll(async () => {
  const extra = emitted.slice(0, 50).map((e) => ({ ...e, id: `${e.id}-again`, sale: `${sale.sale}-mixed` }));
  collector = await startCollector(
    config,
    [{ source: new SimulatorSource(sale, 0) }, { source: withBadNeighbours(extra) }],
    quietLog,
  );
  await collector.finished;
  influx = await connectInflux(config.influx);
}, 60_000);

afterAll(async () => {
  await collector?.stop();
  await influx?.close();
  await dropStores(config);
});

function countByMeasurement(events: readonly LaneEvent[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const event of events) counts[measurementOf(event.type)] = (counts[measurementOf(event.type)] ?? 0) + 1;
  return counts;
}

describe('collector → InfluxDB', () => {
  it('stores every simulated event once, counted per kind with InfluxQL', async () => {
    const series = await influx.query(`SELECT count("id") FROM /.*/ WHERE sale = ${quoteLiteral(sale.sale)}`);
    const stored = Object.fromEntries(series.map((s) => [s.name, s.values[0]?.[1]]));
    expect(emitted.length).toBeGreaterThan(1000);
    expect(stored).toEqual(countByMeasurement(emitted));
  });

  it('keeps two events of one lane in the same millisecond as two points', async () => {
    const bids = emitted.filter((e) => e.type === 'bid');
    const perLane = await influx.query(
      `SELECT count("amount") FROM "bid" WHERE sale = ${quoteLiteral(sale.sale)} GROUP BY lane`,
    );
    const stored = Object.fromEntries(perLane.map((s) => [s.tags?.lane, s.values[0]?.[1]]));
    for (const lane of sale.lanes) expect(stored[lane]).toBe(bids.filter((b) => 'lane' in b && b.lane === lane).length);
  });

  it('stores the values of an event as fields and its ids as tags', async () => {
    const sold = emitted.find((e): e is Extract<LaneEvent, { type: 'vehicle.sold' }> => e.type === 'vehicle.sold');
    if (!sold) throw new Error('the simulated sale sold nothing');
    const [series] = await influx.query(
      `SELECT "price", "run", "channel", "lane" FROM "vehicle_sold" WHERE "id" = ${quoteLiteral(sold.id)}`,
    );
    expect(series?.values).toEqual([[sold.ts, sold.price, sold.run, sold.channel, sold.lane]]);
    const tags = await influx.query('SHOW TAG KEYS FROM "bid_submitted"');
    expect(tags[0]?.values.flat().sort()).toEqual(['auction', 'lane', 'sale', 'source']);
  });
  it('round-trips ids, names and values that need escaping in line protocol', async () => {
    const awkward = 'Lane "A", row=2 \\ east';
    const event = {
      id: 'escape-1',
      type: 'sale.opened',
      ts: Date.UTC(2026, 10, 23, 15, 0),
      source: 'feed, with=specials',
      auction: 'Dallas Auto, Inc',
      sale: 'escape sale=1',
      name: awkward,
    } as const satisfies LaneEvent;
    await influx.writeLines(toLines([event]));
    const [series] = await influx.query(
      `SELECT "name", "auction", "source" FROM "sale_opened" WHERE "sale" = ${quoteLiteral(event.sale)}`,
    );
    expect(series?.values).toEqual([[event.ts, awkward, event.auction, event.source]]);
  });
});

describe('collector → Redis stream', () => {
  it('appends every accepted event, in order, once', async () => {
    const events = await busEvents(config.redis.url, config.redis.stream);
    const simulated = events.filter((e) => e.sale === sale.sale);
    expect(simulated.map((e) => e.id)).toEqual(emitted.map((e) => e.id));
    expect(events.length).toBe(emitted.length + 50);
  });
});

describe('collector metrics', () => {
  it('exposes per-source and per-sink counts in Prometheus format', async () => {
    const text = await (await fetch(`http://127.0.0.1:${collector.port}/metrics`)).text();
    const value = (series: string) =>
      Number(new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\d+)$`, 'm').exec(text)?.[1]);
    expect(value('lanewatch_collector_accepted_total{source="simulator"}')).toBe(emitted.length);
    expect(value('lanewatch_collector_received_total{source="mixed-feed"}')).toBe(100);
    expect(value('lanewatch_collector_rejected_total{source="mixed-feed",reason="bid.channel"}')).toBe(7);
    expect(value('lanewatch_collector_written_total{sink="influxdb"}')).toBe(emitted.length + 50);
    expect(value('lanewatch_collector_written_total{sink="redis"}')).toBe(emitted.length + 50);
    expect(value('lanewatch_collector_spooled_total{sink="influxdb"}')).toBe(0);
    expect(text).toMatch(/^lanewatch_collector_write_seconds_count\{sink="influxdb"\} [1-9]\d*$/m);
  });
});

describe('bad input', () => {
  it('rejects each malformed message with its reason and delivers all its neighbours', async () => {
    const stats = collector.pipeline.stats();
    expect(stats.sources['mixed-feed']).toMatchObject({ received: 100, accepted: 50, rejected: 50, duplicates: 0 });
    // 50 bad messages cycling through 7 faults: the first fault 8 times, the others 7.
    expect(stats.sources['mixed-feed']?.rejectedBy).toEqual({
      'attendance.id': 8,
      'event must be a JSON object (got string)': 7,
      'attendance.online': 7,
      'attendance.ts': 7,
      'event must be a JSON object (got null)': 7,
      'event must be a JSON object (got an array)': 7,
      'bid.channel': 7,
    });
    const reasons = collector.pipeline.deadLetters().map((d) => d.reason);
    expect(reasons).toContain('bid.channel: Invalid option: expected one of "online"|"floor"|"proxy" (got "phone")');
    const series = await influx.query(
      `SELECT count("id") FROM /.*/ WHERE sale = ${quoteLiteral(`${sale.sale}-mixed`)}`,
    );
    const stored = series.map((s) => Number(s.values[0]?.[1])).reduce((a, b) => a + b, 0);
    expect(stored).toBe(50);
  });
});

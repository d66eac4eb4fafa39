/**
 * Recounting a sale from the raw events in the real InfluxDB: exact figures on a hand-made sale
 * with every correction the counting rules know, and agreement with the live engine, lane by
 * lane, on a whole simulated sale.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LaneEvent } from '../collector/events';
import { InfluxEventSink } from '../collector/sinks/influxdb';
import { simulateSale } from '../collector/sources/simulator';
import { recountSale, type LaneRecount } from '../server/history/recount';
import { applyEvent, createEngine } from '../server/metrics/engine';
import { laneSnapshot } from '../server/metrics/snapshot';
import { connectInflux, quoteLiteral, type InfluxStore } from '../storage/influxdb';
import { SALE, script } from './helpers/script';
import { dropStores, isolatedConfig } from './helpers/stores';

const config = isolatedConfig();
let influx: InfluxStore;

beforeAll(async () => {
  influx = await connectInflux(config.influx);
});

afterAll(async () => {
  await influx?.close();
  await dropStores(config);
});

async function store(events: readonly LaneEvent[]): Promise<void> {
  const sink = new InfluxEventSink(influx);
  for (let i = 0; i < events.length; i += 5000) await sink.write({ id: `${i}`, events: events.slice(i, i + 5000) });
}

/** What the live engine makes of the same events, in the recount's terms. */
function engineFigures(events: readonly LaneEvent[], sale: string): LaneRecount[] {
  const engine = createEngine();
  for (const event of events) applyEvent(engine, event);
  const state = engine.sales.get(sale);
  if (!state) throw new Error(`sale ${sale} not in the engine`);
  return [...state.lanes.values()]
    .sort((a, b) => a.lane.localeCompare(b.lane, undefined, { numeric: true }))
    .map((lane) => {
      const snapshot = laneSnapshot(lane, state, state.latestTs);
      return {
        lane: lane.lane,
        offered: snapshot.offered,
        sold: snapshot.sold,
        ifSale: snapshot.ifSale,
        noSale: snapshot.noSale,
        grossSales: snapshot.grossSales,
        bids: { ...lane.tally.bids },
        missedOnlineBids: snapshot.missedOnlineBids.sale,
      };
    });
}

/**
 * Lane 1: a clean sale; an if-sale whose high bid was retracted, approved later without a price;
 * a run cut short by the next vehicle with an online bid never taken; a sale reversed; a rerun;
 * an outcome for a vehicle never put up; a resent event. Lane 2: if-sales approved at a price,
 * declined and never answered, and a retraction after the hammer that changes nothing. Lane 3: a
 * feed that numbers its messages, whose outcome and next vehicle share a millisecond, and a lane
 * that closes on a run with an online bid never taken.
 */
function handMadeSale(): LaneEvent[] {
  const lane1 = script('1')
    .at(0)
    .opened()
    .at(10)
    .up(1)
    .at(15)
    .bid(1, 1000, 'floor')
    .at(20)
    .submitted(1, 'b1', 1100)
    .at(21)
    .bid(1, 1100, 'online', 'b1')
    .at(30)
    .sold(1, 1100, 'online')
    .at(40)
    .up(2)
    .at(45)
    .bid(2, 2000, 'proxy')
    .at(50)
    .submitted(2, 'b2', 2100)
    .at(52)
    .bid(2, 2100, 'floor')
    .at(54)
    .bid(2, 2200, 'floor')
    .at(56)
    .retracted(2, 2200)
    .at(60)
    .ifsale(2, 2200)
    .at(70)
    .up(3)
    .at(75)
    .bid(3, 3000, 'floor')
    .at(80)
    .submitted(3, 'b3', 3100)
    .at(90)
    .up(4)
    .at(94)
    .submitted(4, 'b4', 4000)
    .at(95)
    .bid(4, 4000, 'online', 'b4')
    .at(100)
    .sold(4, 4000, 'floor')
    .at(110)
    .reversed(4)
    .at(120)
    .rerun(3)
    .up(3)
    .at(125)
    .bid(3, 2500, 'floor')
    .at(130)
    .nosale(3, 2500)
    .at(140)
    .nosale(9)
    .at(200)
    .resolved(2, true).events;
  const resent = { ...(lane1.find((e) => e.type === 'vehicle.sold') as LaneEvent) };
  resent.ts += 5;

  const lane2 = script('2')
    .at(0)
    .opened()
    .at(10)
    .up(1)
    .at(12)
    .bid(1, 5000, 'proxy')
    .at(20)
    .ifsale(1, 5000)
    .at(30)
    .up(2)
    .at(32)
    .bid(2, 6000, 'floor')
    .at(40)
    .ifsale(2, 6000)
    .at(45)
    .retracted(2, 6000)
    .at(50)
    .up(3)
    .at(52)
    .bid(3, 7000, 'online')
    .at(60)
    .ifsale(3, 7000)
    .at(300)
    .resolved(1, true, 5200)
    .resolved(2, false)
    .at(400)
    .closed().events;

  const lane3 = script('3')
    .at(0)
    .opened()
    .at(10)
    .up(1)
    .at(12)
    .bid(1, 900, 'floor')
    .at(20)
    .nosale(1, 900)
    .up(2)
    .at(25)
    .submitted(2, 'c1', 1000)
    .at(30)
    .closed().events;
  lane3.forEach((event, i) => Object.assign(event, { seq: i + 1 }));
  return [...lane1, resent, ...lane2, ...lane3].sort((a, b) => a.ts - b.ts);
}

describe('recounting a hand-made sale from InfluxDB', () => {
  const events = handMadeSale();
  let recount: LaneRecount[];

  beforeAll(async () => {
    await store(events);
    recount = await recountSale(influx, SALE);
  });

  it('applies reversals, late if-sale answers, cut-short runs, retractions and missed online bids', () => {
    expect(recount).toEqual([
      {
        lane: '1',
        offered: 6,
        sold: 2,
        ifSale: 0,
        noSale: 4,
        grossSales: 1100 + 2100,
        bids: { online: 2, floor: 4, proxy: 1 },
        missedOnlineBids: 2,
      },
      {
        lane: '2',
        offered: 3,
        sold: 1,
        ifSale: 1,
        noSale: 1,
        grossSales: 5200,
        bids: { online: 1, floor: 1, proxy: 1 },
        missedOnlineBids: 0,
      },
      {
        lane: '3',
        offered: 2,
        sold: 0,
        ifSale: 0,
        noSale: 2,
        grossSales: 0,
        bids: { online: 0, floor: 1, proxy: 0 },
        missedOnlineBids: 1,
      },
    ]);
  });

  it('agrees with the live engine', () => {
    expect(engineFigures(events, SALE)).toEqual(recount);
  });

  it('knows nothing of a sale InfluxDB does not hold', async () => {
    expect(await recountSale(influx, `${SALE}' OR sale =~ /.*/ OR sale = '`)).toEqual([]);
  });
});

describe('recounting a simulated sale from InfluxDB', () => {
  const sale = simulateSale({
    seed: 5,
    lanes: 6,
    durationMin: 180,
    speed: 0,
    auction: 'recount',
    start: Date.UTC(2026, 10, 24, 14, 0),
  });
  const events = [...sale.events()];

  beforeAll(async () => {
    await store(events);
  }, 60_000);

  it('holds every kind of correction, and more bids than one query page returns', async () => {
    const kinds = new Set(events.map((event) => event.type));
    for (const kind of ['bid.retracted', 'sale.reversed', 'ifsale.resolved', 'vehicle.rerun'] as const) {
      expect(kinds).toContain(kind);
    }
    const engine = createEngine();
    for (const event of events) applyEvent(engine, event);
    const lanes = [...(engine.sales.get(sale.sale)?.lanes.values() ?? [])];
    expect(lanes.reduce((sum, lane) => sum + lane.tally.unresolved, 0)).toBeGreaterThan(0);
    expect(lanes.reduce((sum, lane) => sum + lane.tally.missedOnlineBids, 0)).toBeGreaterThan(0);
    const [bids] = await influx.query(`SELECT count("amount") FROM "bid" WHERE sale = ${quoteLiteral(sale.sale)}`);
    expect(bids?.values[0]?.[1]).toBeGreaterThan(10_000);
  });

  it('equals the live engine on every lane and every recounted figure', async () => {
    const recount = await recountSale(influx, sale.sale);
    expect(recount.map((lane) => lane.lane)).toEqual(sale.lanes);
    expect(recount).toEqual(engineFigures(events, sale.sale));
  });
});

/**
 * Truth, three ways. One whole simulated sale is counted (a) by the live pipeline at full speed —
 * simulator → collector → Redis stream → server, read back from the server's REST API — (b) by the
 * pure engine fed the simulator's events directly, and (c) by the recount over the raw events the
 * collector stored in InfluxDB, which shares no code with the engine. All three agree per lane.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector } from '../../collector/collector';
import { SimulatorSource, simulateSale } from '../../collector/sources/simulator';
import { recountSale, type LaneRecount } from '../../server/history/recount';
import { applyEvent, createEngine, type SaleState } from '../../server/metrics/engine';
import { saleLanes } from '../../server/metrics/snapshot';
import { startServer, type RunningServer } from '../../server/server';
import type { LaneSnapshot, SaleSummary } from '../../server/wire';
import { connectInflux } from '../../storage/influxdb';
import { dropStores, eventually, isolatedConfig, quietLog } from '../helpers/stores';
import { grantToken, withToken } from '../helpers/access';

const config = isolatedConfig();
// A whole 4-hour sale of six lanes (~57,000 events), played as fast as the pipeline takes it.
const sale = simulateSale({ seed: 11, lanes: 6, durationMin: 240, speed: 0, auction: 'truth', start: undefined });

let server: RunningServer | undefined;
let token: string;
let pure: LaneRecount[];
let live: LaneRecount[];
let liveTotals: SaleSummary;
let recounted: LaneRecount[];

beforeAll(async () => {
  pure = pureEngine();
  server = await startServer(config, quietLog);
  token = await grantToken(config, 'viewer');
  const collector = await startCollector(config, [{ source: new SimulatorSource(sale, 0) }], quietLog);
  await collector.finished;
  await collector.stop();
  const base = `http://127.0.0.1:${server.port}/api/sales/${sale.sale}`;
  // `sale.closed` is the sale's last event: once it is applied, every event before it is.
  await eventually(async () => {
    const response = await fetch(`${base}/summary`, withToken(token));
    return response.ok && ((await response.json()) as SaleSummary).state === 'closed' ? true : undefined;
  }, 30_000);
  const lanes = (await (await fetch(`${base}/lanes`, withToken(token))).json()) as LaneSnapshot[];
  liveTotals = (await (await fetch(`${base}/summary`, withToken(token))).json()) as SaleSummary;
  live = recountTerms(lanes);

  const influx = await connectInflux(config.influx);
  try {
    recounted = await recountSale(influx, sale.sale);
  } finally {
    await influx.close();
  }
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await dropStores(config);
});

function saleOf(state: SaleState | undefined): SaleState {
  if (!state) throw new Error(`the engine holds no sale ${sale.sale}`);
  return state;
}

/** Lane snapshots in the recount's terms. */
function recountTerms(lanes: readonly LaneSnapshot[]): LaneRecount[] {
  return lanes.map((lane) => {
    const { offered, sold, ifSale, noSale, grossSales, bids } = lane;
    return {
      lane: lane.lane,
      offered,
      sold,
      ifSale,
      noSale,
      grossSales,
      bids,
      missedOnlineBids: lane.missedOnlineBids.sale,
    };
  });
}

/** The pure engine fed the simulator's events in order, with nothing in between. */
function pureEngine(): LaneRecount[] {
  const engine = createEngine();
  for (const event of sale.events()) applyEvent(engine, event);
  const state = saleOf(engine.sales.get(sale.sale));
  return recountTerms(saleLanes(state, state.latestTs));
}

describe('one whole sale, counted three ways', () => {
  it('is a sale worth checking: every lane, hundreds of runs, every kind of outcome', () => {
    expect(pure.map((lane) => lane.lane)).toEqual(sale.lanes);
    const sum = (key: 'offered' | 'sold' | 'ifSale' | 'noSale' | 'missedOnlineBids') =>
      pure.reduce((n, lane) => n + lane[key], 0);
    expect(sum('offered')).toBeGreaterThan(1000);
    expect(sum('sold')).toBeGreaterThan(0);
    expect(sum('ifSale')).toBeGreaterThan(0);
    expect(sum('noSale')).toBeGreaterThan(0);
    expect(sum('missedOnlineBids')).toBeGreaterThan(0);
    const kinds = new Set([...sale.events()].map((event) => event.type));
    for (const kind of ['sale.reversed', 'ifsale.resolved', 'bid.retracted', 'vehicle.rerun']) {
      expect(kinds).toContain(kind);
    }
  });

  it('the live pipeline, read from the REST API, agrees with the pure engine per lane', () => {
    expect(live).toEqual(pure);
  });

  it("the live sale totals add up the pure engine's lanes", () => {
    const sum = (pick: (lane: LaneRecount) => number) => pure.reduce((n, lane) => n + pick(lane), 0);
    expect(liveTotals).toMatchObject({
      offered: sum((lane) => lane.offered),
      sold: sum((lane) => lane.sold),
      ifSale: sum((lane) => lane.ifSale),
      noSale: sum((lane) => lane.noSale),
      grossSales: sum((lane) => lane.grossSales),
      missedOnlineBids: sum((lane) => lane.missedOnlineBids),
      bids: {
        online: sum((lane) => lane.bids.online),
        floor: sum((lane) => lane.bids.floor),
        proxy: sum((lane) => lane.bids.proxy),
      },
    });
  });

  it('the InfluxQL recount of the raw events agrees with the pure engine per lane', () => {
    expect(recounted).toEqual(pure);
  });
});

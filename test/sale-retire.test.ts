/**
 * Retiring sales that are over: the board lets a sale go a set time after its last event, keeps its
 * final summary in InfluxDB (served by the summary route afterwards), drops its stragglers, and
 * the alert state forgets it too — so a server that runs for weeks stays bounded.
 */
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlertsState, currentAlerts, forgetRetiredSales } from '../alerts/evaluator';
import { createApp } from '../server/app';
import { EventClock } from '../server/clock';
import { archiveSummaries, archivedSummary } from '../server/history/summaries';
import { DEFAULT_SNAPSHOT_OPTIONS } from '../server/metrics/snapshot';
import { SaleBoard } from '../server/sale-board';
import type { SaleSummary } from '../server/wire';
import { connectInflux, type InfluxStore } from '../storage/influxdb';
import { at, run, type Scenario } from './helpers/alert-scenario';
import { appAccess, withToken } from './helpers/access';
import { dropStores, isolatedConfig } from './helpers/stores';
import { SALE, script } from './helpers/script';

const HOUR = 3_600_000;
const OTHER = 'dallas-20261124-140000';

/** A sale that opens, sells one car and closes at 60 s; and another sale of the next day, still open. */
function twoSales(wall: { ms: number }): SaleBoard {
  const board = new SaleBoard(DEFAULT_SNAPSHOT_OPTIONS, new EventClock(() => wall.ms));
  const closed = script().at(0).saleOpened().opened('Ann', 'Carl').at(10).up(1).at(20).sold(1, 4500).at(60);
  closed.saleClosed();
  for (const event of closed.events) board.apply(event);
  const open = script('1', 'other', { sale: OTHER }).at(0).saleOpened().opened('Bea', 'Dan');
  for (const event of open.events) board.apply(event);
  wall.ms += 5_000;
  board.tick();
  return board;
}

describe('retiring idle sales', () => {
  it('keeps a sale until it has been idle for the whole retire time, then returns its final summary', () => {
    const wall = { ms: 0 };
    const board = twoSales(wall);
    const before = board.summary(SALE) as SaleSummary;
    expect(board.retireIdle(24 * HOUR)).toEqual([]);

    wall.ms += 24 * HOUR;
    const feedOther = script('1', 'other-later', { sale: OTHER })
      .at(24 * 3600)
      .attendance(12).events;
    for (const event of feedOther) board.apply(event); // the other sale is still talking
    const retired = board.retireIdle(24 * HOUR);

    expect(retired.map((summary) => summary.sale)).toEqual([SALE]);
    expect(retired[0]).toMatchObject({ offered: 1, sold: 1, grossSales: 4500, state: 'closed' });
    expect(retired[0]?.clerks).toEqual(before.clerks);
    expect(board.sales().map((sale) => sale.sale)).toEqual([OTHER]);
    expect(board.view(SALE)).toBeUndefined();
  });

  it('retires a sale whose feed died without closing it', () => {
    const wall = { ms: 0 };
    const board = twoSales(wall);
    wall.ms += 25 * HOUR;
    expect(
      board
        .retireIdle(24 * HOUR)
        .map((summary) => [summary.sale, summary.state])
        .sort(),
    ).toEqual([
      [SALE, 'closed'],
      [OTHER, 'open'],
    ]);
    expect(board.sales()).toEqual([]);
  });

  it('drops and counts events that come for a retired sale instead of starting it again', () => {
    const wall = { ms: 0 };
    const board = twoSales(wall);
    wall.ms += 25 * HOUR;
    board.retireIdle(24 * HOUR);
    const straggler = script('1', 'late').at(30).sold(2, 5000).events;
    for (const event of straggler) board.apply(event);
    board.tick();
    expect(board.lateForRetiredSale).toBe(1);
    expect(board.view(SALE)).toBeUndefined();
  });
});

describe('forgetting the alerts of retired sales', () => {
  const lane = (name: string) => ({ lane: name, online: () => 30 });
  const scenario: Scenario = { lanes: [lane('1'), lane('2')] };

  it('forgets a sale that is no longer evaluated once its keys are older than the cut-off', () => {
    const { state } = run(scenario, 0, 300);
    const keys = currentAlerts(state).length;
    expect(keys).toBeGreaterThan(0);
    const newestChange = Math.max(...currentAlerts(state).map((alert) => alert.since));

    const [sale] = Object.keys(state.sales);
    // Still evaluated: kept whatever its age.
    expect(forgetRetiredSales(state, new Set([sale as string]), at(10_000))).toEqual([]);
    // Not evaluated, but a key changed after the cut-off (a node still reading it back): kept.
    expect(forgetRetiredSales(state, new Set(), newestChange)).toEqual([]);
    expect(currentAlerts(state)).toHaveLength(keys);
    // Not evaluated and idle since before the cut-off: gone.
    expect(forgetRetiredSales(state, new Set(), newestChange + 1)).toEqual([sale]);
    expect(currentAlerts(state)).toEqual([]);
    expect(forgetRetiredSales(createAlertsState(), new Set(), at(0))).toEqual([]);
  });
});

describe('archived summaries on the real InfluxDB', () => {
  const config = isolatedConfig();
  let influx: InfluxStore;
  let http: Server;
  let base: string;
  let archived: SaleSummary;
  let access: Awaited<ReturnType<typeof appAccess>>;
  const get = (path: string) => fetch(`${base}${path}`, withToken(access.token));

  beforeAll(async () => {
    influx = await connectInflux(config.influx);
    access = await appAccess(config);
    const wall = { ms: 0 };
    const board = twoSales(wall);
    wall.ms += 25 * HOUR;
    const summaries = board.retireIdle(24 * HOUR);
    archived = summaries.find((summary) => summary.sale === SALE) as SaleSummary;
    await archiveSummaries(influx, summaries);
    await archiveSummaries(influx, summaries); // every node writes it: still one point
    const probes = { influx: async () => true, redis: async () => true, streamLagMs: async () => 0 };
    http = createServer(createApp(board, probes, () => influx, access.access));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}/api`;
  });

  afterAll(async () => {
    await new Promise((resolve) => http?.close(resolve));
    await access?.close();
    await influx?.close();
    await dropStores(config);
  });

  it('stores one point per sale and reads the summary back whole', async () => {
    const [series] = await influx.query(`SELECT count("json") FROM "sale_summaries" WHERE "sale" = '${SALE}'`);
    expect(series?.values[0]?.[1]).toBe(1);
    expect(await archivedSummary(influx, SALE)).toEqual(archived);
    expect(await archivedSummary(influx, 'never-held')).toBeUndefined();
  });

  it('serves a retired sale’s summary from the archive, and 404 for a sale never seen', async () => {
    const response = await get(`/sales/${SALE}/summary`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(archived);
    expect((await get(`/sales/never-held/summary`)).status).toBe(404);
  });
});

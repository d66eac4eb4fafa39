/** The sale board's buffered path and tick, and the summary routes served from it. */
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../server/app';
import { EventClock } from '../server/clock';
import { DEFAULT_SNAPSHOT_OPTIONS } from '../server/metrics/snapshot';
import { SaleBoard } from '../server/sale-board';
import type { SaleSummary, SiteSummary } from '../server/wire';
import { appAccess, withToken } from './helpers/access';
import { EventScript, SALE, script } from './helpers/script';
import { isolatedConfig } from './helpers/stores';

function boardAt(wall: { ms: number }): SaleBoard {
  return new SaleBoard(DEFAULT_SNAPSHOT_OPTIONS, new EventClock(() => wall.ms));
}

const run = script().at(0).opened('Ann', 'Carl').at(10).up(1).at(20).sold(1, 4500).events;

describe('sale board', () => {
  it('shows an event once its reorder window has passed by the sale clock', () => {
    const wall = { ms: 0 };
    const board = boardAt(wall);
    for (const event of run) board.apply(event);
    expect(board.view(SALE)?.totals.offered).toBe(0); // the 20 s hammer is held for 2 s
    wall.ms += 1500;
    board.tick();
    expect(board.view(SALE)?.totals.offered).toBe(0);
    wall.ms += 500;
    board.tick();
    expect(board.view(SALE)?.totals).toMatchObject({ offered: 1, grossSales: 4500 });
  });

  it('restores from its checkpoint with held events and the sale clock', () => {
    const wall = { ms: 0 };
    const board = boardAt(wall);
    for (const event of run) board.apply(event);
    const restored = boardAt(wall);
    restored.restore(board.checkpoint());
    wall.ms += 2000;
    restored.tick();
    expect(restored.summary(SALE)).toMatchObject({ offered: 1, asOf: EventScript.time(22) });
  });
});

describe('summary routes', () => {
  let http: Server;
  let base: string;
  let access: Awaited<ReturnType<typeof appAccess>>;
  const get = (path: string) => fetch(`${base}${path}`, withToken(access.token));

  beforeAll(async () => {
    const wall = { ms: 0 };
    const board = boardAt(wall);
    for (const event of run) board.apply(event);
    wall.ms += 2000;
    board.tick();
    const probes = { influx: async () => true, redis: async () => true, streamLagMs: async () => 0 };
    access = await appAccess(isolatedConfig());
    http = createServer(createApp(board, probes, () => undefined, access.access));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}/api`;
  });

  afterAll(async () => {
    await new Promise((resolve) => http.close(resolve));
    await access.close();
  });

  it('answers a sale summary with its staff rows', async () => {
    const response = await get(`/sales/${SALE}/summary`);
    expect(response.status).toBe(200);
    const summary = (await response.json()) as SaleSummary;
    expect(summary).toMatchObject({ sale: SALE, offered: 1, sold: 1, grossSales: 4500 });
    expect(summary.auctioneers.map((r) => [r.name, r.offered])).toEqual([['Ann', 1]]);
    expect(summary.clerks.map((r) => [r.name, r.sold, r.blockErrors])).toEqual([['Carl', 1, 0]]);
  });

  it('answers a site summary over its sales', async () => {
    const response = await get(`/auctions/dallas/summary`);
    expect(response.status).toBe(200);
    expect((await response.json()) as SiteSummary).toMatchObject({ auction: 'dallas', sales: 1, grossSales: 4500 });
  });

  it('answers 404 for a sale or site it does not know', async () => {
    const sale = await get(`/sales/no-such-sale/summary`);
    expect(sale.status).toBe(404);
    expect(await sale.json()).toEqual({ error: 'unknown sale "no-such-sale"' });
    const site = await get(`/auctions/nowhere/summary`);
    expect(site.status).toBe(404);
    expect(await site.json()).toEqual({ error: 'unknown auction "nowhere"' });
  });
});

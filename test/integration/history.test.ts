/**
 * History read back from the real InfluxDB over HTTP: the lane history route (parameters, exact
 * raw and bucketed points, refusal of bad input, InfluxDB missing) and the stored sales list.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LaneEvent } from '../../collector/events';
import { InfluxEventSink } from '../../collector/sinks/influxdb';
import { storedSales } from '../../server/history/sales';
import { historyRoutes } from '../../server/routes/history';
import { connectInflux, type InfluxStore } from '../../storage/influxdb';
import { SALE, SALE_START, script } from '../helpers/script';
import { dropStores, isolatedConfig } from '../helpers/stores';

const MIN = 60_000;
/** When the history route's clock says it is: long after the stored points. */
const NOW = SALE_START + 24 * 60 * MIN;
const config = isolatedConfig();
let influx: InfluxStore;
let store: InfluxStore | undefined;
let server: Server;
let base: string;

/** Lane 1 had `onlineBidders` = i at second i for two minutes; lane 2 and another sale hold decoys. */
function storedLines(): string[] {
  const lines: string[] = [];
  for (let i = 0; i < 120; i++) {
    const ns = `${SALE_START + i * 1000}000000`;
    lines.push(`lane_metrics,auction=dallas,lane=1,sale=${SALE} onlineBidders=${i},grossSales=${i * 100} ${ns}`);
    lines.push(`lane_metrics,auction=dallas,lane=2,sale=${SALE} onlineBidders=${1000 + i} ${ns}`);
    lines.push(`lane_metrics,auction=dallas,lane=1,sale=other onlineBidders=${2000 + i} ${ns}`);
  }
  return lines;
}

beforeAll(async () => {
  influx = await connectInflux(config.influx);
  store = influx;
  await influx.writeLines(storedLines());
  const app = express();
  app.use(
    '/api',
    historyRoutes(
      () => store,
      () => NOW,
    ),
  );
  server = app.listen(0);
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await influx?.close();
  await dropStores(config);
});

async function history(query: string, lane = '1', sale = SALE): Promise<{ status: number; body: unknown }> {
  const response = await fetch(
    `${base}/sales/${encodeURIComponent(sale)}/lanes/${encodeURIComponent(lane)}/history?${query}`,
  );
  return { status: response.status, body: await response.json() };
}

const at = (second: number) => SALE_START + second * 1000;
const iso = (second: number) => new Date(at(second)).toISOString();

describe('GET /api/sales/:sale/lanes/:lane/history', () => {
  it('returns the raw 1-second points of the range, bounds included', async () => {
    expect(await history(`metric=onlineBidders&from=${at(10)}&to=${at(14)}&step=1s`)).toEqual({
      status: 200,
      body: { metric: 'onlineBidders', points: [10, 11, 12, 13, 14].map((i) => [at(i), i]) },
    });
  });

  it('reads from and to as epoch milliseconds or ISO times alike', async () => {
    const epoch = await history(`metric=grossSales&from=${at(3)}&to=${at(5)}&step=1`);
    const isoTimes = await history(`metric=grossSales&from=${iso(3)}&to=${iso(5)}&step=1`);
    expect(epoch.body).toEqual({ metric: 'grossSales', points: [3, 4, 5].map((i) => [at(i), i * 100]) });
    expect(isoTimes).toEqual(epoch);
  });

  it('gives the last value of each step bucket, buckets on round times', async () => {
    expect((await history(`metric=onlineBidders&from=${at(0)}&to=${at(119)}&step=15s`)).body).toEqual({
      metric: 'onlineBidders',
      points: [0, 1, 2, 3, 4, 5, 6, 7].map((k) => [at(15 * k), 15 * k + 14]),
    });
    expect((await history(`metric=onlineBidders&from=${at(30)}&to=${at(200)}&step=1m`)).body).toEqual({
      metric: 'onlineBidders',
      points: [
        [at(0), 59],
        [at(60), 119],
      ],
    });
  });

  it('shows the 30 minutes up to the lane’s newest point, in 2-second buckets, when no range is given', async () => {
    expect((await history('metric=onlineBidders')).body).toEqual({
      metric: 'onlineBidders',
      points: Array.from({ length: 60 }, (_, k) => [at(2 * k), 2 * k + 1]),
    });
  });

  it('answers an empty list for a lane without history', async () => {
    expect(await history('metric=onlineBidders', '7')).toEqual({
      status: 200,
      body: { metric: 'onlineBidders', points: [] },
    });
  });

  it('keeps sale and lane as literals: quotes in them select nothing', async () => {
    const injected = await history('metric=onlineBidders', "1' OR lane = '2", `${SALE}' OR sale = 'other`);
    expect(injected).toEqual({ status: 200, body: { metric: 'onlineBidders', points: [] } });
    const regex = await history('metric=onlineBidders', '1', `x' OR sale =~ /.*/ OR sale = 'y`);
    expect(regex.body).toEqual({ metric: 'onlineBidders', points: [] });
  });

  it('refuses an unknown or missing metric, listing the valid ones', async () => {
    const unknown = await history('metric=bidders');
    expect(unknown.status).toBe(400);
    expect(unknown.body).toEqual({
      error: expect.stringMatching(
        /^metric: unknown metric "bidders"; one of onlineBidders, onlineBiddersPeak, .*feedAgeSec$/,
      ),
    });
    const missing = await history(`from=${at(0)}`);
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual({ error: expect.stringMatching(/^metric: required; one of onlineBidders, /) });
  });

  it('refuses a from or to that is not a time', async () => {
    expect(await history('metric=sold&from=yesterday')).toEqual({
      status: 400,
      body: {
        error: 'from: must be epoch milliseconds or an ISO 8601 time between 1970 and 2262 (got "yesterday")',
      },
    });
    expect(await history('metric=sold&to=2026-13-01T00:00:00Z')).toMatchObject({ status: 400 });
    expect(await history('metric=sold&to=99999999999999999')).toMatchObject({ status: 400 });
  });

  it('refuses a step that is not whole seconds from 1 s to a year', async () => {
    const reason = 'step: must be whole seconds from 1 s to a year, as 15 or a duration like 15s, 1m, 2h';
    for (const step of ['0', '0s', '1.5s', '500ms', 'fast', '-1', '8785h']) {
      expect(await history(`metric=sold&step=${step}`)).toEqual({
        status: 400,
        body: { error: `${reason} (got ${JSON.stringify(step)})` },
      });
    }
  });

  it('refuses a range that ends before it starts', async () => {
    expect(await history(`metric=sold&from=${at(10)}&to=${at(9)}`)).toEqual({
      status: 400,
      body: { error: `from (${iso(10)}) is after to (${iso(9)})` },
    });
  });

  it('refuses a range too large for its step', async () => {
    expect(await history(`metric=sold&from=${at(0)}&to=${at(86_400)}&step=1`)).toEqual({
      status: 400,
      body: {
        error: 'range too large for step: 86401 points of 1s (at most 10000); use step=9s or more, or a shorter range',
      },
    });
  });

  it('answers 503 while InfluxDB is not connected', async () => {
    store = undefined;
    try {
      expect(await history('metric=sold')).toEqual({
        status: 503,
        body: { error: 'history is unavailable: InfluxDB is not connected' },
      });
    } finally {
      store = influx;
    }
  });

  it('answers 503 with the reason when InfluxDB does not answer', async () => {
    // A store whose server stopped answering: its requests reject as fetch does.
    const gone = () => Promise.reject(new TypeError('fetch failed'));
    store = {
      api: 'v1',
      version: influx.version,
      writeLines: gone,
      query: gone,
      ping: async () => false,
      close: async () => {},
    };
    try {
      expect(await history('metric=sold')).toEqual({
        status: 503,
        body: { error: 'history is unavailable: fetch failed' },
      });
    } finally {
      store = influx;
    }
  });
});

describe('sales stored in InfluxDB', () => {
  const opened = (sale: string, ts: number, name: string, lanes: string[] = []): LaneEvent[] => [
    { id: `${sale}-open-${ts}`, type: 'sale.opened', ts, source: 'test', auction: 'dallas', sale, name },
    ...lanes.map((lane): LaneEvent => ({
      id: `${sale}-lane-${lane}`,
      type: 'lane.opened',
      ts: ts + 1000,
      source: 'test',
      auction: 'dallas',
      sale,
      lane,
      auctioneer: 'Ann',
      clerk: 'Carl',
    })),
  ];
  const closed = (sale: string, ts: number, name: string): LaneEvent => ({
    id: `${sale}-close-${ts}`,
    type: 'sale.closed',
    ts,
    source: 'test',
    auction: 'dallas',
    sale,
    name,
  });

  it('lists each sale newest first with its state, times and lane count from its raw events', async () => {
    const day = 24 * 60 * MIN;
    const events = [
      ...opened('monday', SALE_START, 'Monday sale', ['1', '2', '3']),
      closed('monday', SALE_START + 5 * 60 * MIN, 'Monday sale (final)'),
      ...opened('tuesday', SALE_START + day, 'Tuesday sale', ['1']),
      ...opened('wednesday', SALE_START + 2 * day, 'Wednesday sale'),
      closed('wednesday', SALE_START + 2 * day + MIN, 'Wednesday sale'),
      ...opened('wednesday', SALE_START + 2 * day + 2 * MIN, 'Wednesday sale, reopened', ['4', '5']),
      // A sale whose `sale.opened` was never stored is not listed.
      ...script('9')
        .at(30)
        .opened()
        .events.map((event) => ({ ...event, sale: 'unlisted' })),
    ];
    await new InfluxEventSink(influx).write({ id: 'sales', events });

    expect(await storedSales(influx)).toEqual([
      {
        auction: 'dallas',
        sale: 'wednesday',
        name: 'Wednesday sale, reopened',
        state: 'open',
        openedAt: SALE_START + 2 * day,
        lanes: 2,
      },
      { auction: 'dallas', sale: 'tuesday', name: 'Tuesday sale', state: 'open', openedAt: SALE_START + day, lanes: 1 },
      {
        auction: 'dallas',
        sale: 'monday',
        name: 'Monday sale (final)',
        state: 'closed',
        openedAt: SALE_START,
        closedAt: SALE_START + 5 * 60 * MIN,
        lanes: 3,
      },
    ]);
  });
});

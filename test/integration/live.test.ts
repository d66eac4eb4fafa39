/**
 * The whole live path on the real services: simulator → collector → Redis stream → server →
 * socket.io `/live` → a real socket.io client. What the client ends up holding must equal what the
 * pure engine computes from the same simulated events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { startCollector, type RunningCollector } from '../../collector/collector';
import { SimulatorSource, simulateSale } from '../../collector/sources/simulator';
import { applyEvent, createEngine } from '../../server/metrics/engine';
import { saleLanes } from '../../server/metrics/snapshot';
import { startServer, type RunningServer } from '../../server/server';
import type {
  Ack,
  ClientToServerEvents,
  LaneSnapshot,
  SaleInfo,
  SaleTotals,
  ServerToClientEvents,
} from '../../server/wire';
import { dropStores, eventually, isolatedConfig, quietLog } from '../helpers/stores';
import { grantToken, withToken } from '../helpers/access';

const config = isolatedConfig();
// A 10-minute, 4-lane sale played at 200× (3 s of wall time), so the client sees it unfold.
const sale = simulateSale({ seed: 11, lanes: 4, durationMin: 10, speed: 200, auction: 'testville', start: undefined });

let server: RunningServer;
let token: string;
let collector: RunningCollector;
let client: Socket<ServerToClientEvents, ClientToServerEvents>;
const lanesMessages: LaneSnapshot[][] = [];
const totalsMessages: SaleTotals[] = [];
const held = new Map<string, LaneSnapshot>();

beforeAll(async () => {
  server = await startServer(config, quietLog);
  token = await grantToken(config, 'viewer');
  collector = await startCollector(config, [{ source: new SimulatorSource(sale, 200) }], quietLog);
  const base = `http://127.0.0.1:${server.port}`;
  // Every lane has opened (its first events are past the reorder window) before the screen watches.
  await eventually(async () => {
    const sales = (await (await fetch(`${base}/api/sales`, withToken(token))).json()) as SaleInfo[];
    return sales.some((s) => s.sale === sale.sale && s.lanes === sale.lanes.length) ? true : undefined;
  });
  client = io(`${base}/live`, { transports: ['websocket'], auth: { token } });
  client.on('lanes', (lanes) => {
    lanesMessages.push(lanes);
    for (const lane of lanes) held.set(lane.lane, lane);
  });
  client.on('sale', (totals) => totalsMessages.push(totals));
  const reply = await new Promise<Ack<{ sale: string }>>((resolve) =>
    client.emit('watch', { sale: sale.sale }, resolve),
  );
  expect(reply).toEqual({ ok: true, data: { sale: sale.sale } });
  await collector.finished;
}, 60_000);

afterAll(async () => {
  client?.close();
  await collector?.stop();
  await server?.stop();
  await dropStores(config);
});

/** The figures the pure engine gives for the whole simulated sale. */
function expectedLanes(): LaneSnapshot[] {
  const engine = createEngine();
  for (const event of sale.events()) applyEvent(engine, event);
  const state = engine.sales.get(sale.sale);
  if (!state) throw new Error('the engine saw no sale');
  return saleLanes(state, state.latestTs);
}

const EXACT = [
  'offered',
  'sold',
  'ifSale',
  'noSale',
  'unresolved',
  'grossSales',
  'missedOnlineBids',
  'onlineBiddersPeak',
] as const;

describe('live lanes over socket.io', () => {
  it('sends every lane at once on watch', () => {
    expect(lanesMessages[0]?.map((l) => l.lane)).toEqual(sale.lanes);
  });

  it('then sends only the lanes that changed, at most once a second', () => {
    expect(lanesMessages.length).toBeGreaterThan(1);
    expect(lanesMessages.slice(1).every((m) => m.length <= sale.lanes.length)).toBe(true);
  });

  it('ends with the figures the pure engine computes from the same events', async () => {
    const expected = expectedLanes();
    expect(expected.reduce((n, l) => n + l.offered, 0)).toBeGreaterThan(20);
    const pick = (lane: LaneSnapshot) => Object.fromEntries(EXACT.map((key) => [key, lane[key]]));
    await eventually(() => {
      const ok = expected.every(
        (e) => JSON.stringify(pick(e)) === JSON.stringify(pick(held.get(e.lane) ?? e)) && held.has(e.lane),
      );
      return ok ? true : undefined;
    });
    for (const lane of expected) {
      const live = held.get(lane.lane);
      expect(live && pick(live)).toEqual(pick(lane));
      expect(live?.secondsPerVehicle).toBe(lane.secondsPerVehicle);
      expect(live?.clerkLatencyMs).toEqual(lane.clerkLatencyMs);
      expect(live?.auctioneer).toBe(lane.auctioneer);
    }
  });

  it('sends sale totals that add up the lanes', async () => {
    const totals = await eventually(() => {
      const last = totalsMessages.at(-1);
      return last && last.offered === expectedLanes().reduce((n, l) => n + l.offered, 0) ? last : undefined;
    });
    const lanes = [...held.values()];
    expect(totals.sold).toBe(lanes.reduce((n, l) => n + l.sold, 0));
    expect(totals.grossSales).toBe(lanes.reduce((n, l) => n + l.grossSales, 0));
    expect(totals.name).toBe(sale.name);
  });

  it('answers the REST lane snapshots and health', async () => {
    const base = `http://127.0.0.1:${server.port}`;
    const lanes = (await (
      await fetch(`${base}/api/sales/${sale.sale}/lanes`, withToken(token))
    ).json()) as LaneSnapshot[];
    expect(lanes.map((l) => l.lane)).toEqual(sale.lanes);
    const unknown = await fetch(`${base}/api/sales/no-such-sale/lanes`, withToken(token));
    expect(unknown.status).toBe(404);
    const health = await eventually(async () => {
      const body = (await (await fetch(`${base}/api/health`, withToken(token))).json()) as {
        status: string;
        streamLagMs: number;
      };
      return body.status === 'ok' ? body : undefined;
    });
    expect(health).toMatchObject({ status: 'ok', influx: true, redis: true, streamLagMs: 0 });
  });

  it('refuses to watch a sale it does not know, with a reason', async () => {
    const reply = await new Promise<Ack<{ sale: string }>>((resolve) =>
      client.emit('watch', { sale: 'nope' }, resolve),
    );
    expect(reply).toEqual({ ok: false, error: 'unknown sale "nope"' });
  });
});

/**
 * The wall display's server without its stores, for browser tests and `bench/display.ts` that need
 * many lanes at a steady pace: the built UI, `GET /api/sales`, and the real `/live` feed
 * (server/live.ts) over a sale board fed the simulator's events straight from memory — no
 * collector, Redis or InfluxDB, so nothing else on the machine paces it — with alerts from the
 * pure evaluator, as the alert desk runs it. The sale's content is fixed by its seed; its pace is
 * the wall clock's. The first `warmMin` minutes are applied at once, so charts start full.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { pino } from 'pino';
import express from 'express';
import { Server } from 'socket.io';
import { DEFAULT_ALERT_CONFIG } from '../../alerts/config';
import { createAlertsState, currentAlerts, evaluateSale } from '../../alerts/evaluator';
import { saleSample } from '../../alerts/samples';
import { simulateSale, type SimulatedSale } from '../../collector/sources/simulator';
import { LiveFeed } from '../../server/live';
import { DEFAULT_SNAPSHOT_OPTIONS } from '../../server/metrics/snapshot';
import { SaleBoard } from '../../server/sale-board';
import { ROOT } from './browser';

export interface WallServerOptions {
  lanes: number;
  /** Simulated seconds per wall second. */
  speed: number;
  /** Minutes of the sale applied before the server listens. */
  warmMin: number;
  seed?: number;
  durationMin?: number;
}

export interface WallServer {
  url: string;
  sale: SimulatedSale;
  /** Event time of the newest event applied. */
  latestTs(): number;
  /** What the heartbeat reports as the build served. */
  setBuild(build: string): void;
  /** Stops the sale where it is; the server keeps serving what it has. */
  pause(): Promise<void>;
  /** Stops the sale and the server (again: nothing more). */
  stop(): Promise<void>;
}

const SECOND = 1000;
const UI_DIST = path.join(ROOT, 'ui/dist');
const quietLog = pino({ level: 'silent' });

export async function startWallServer(options: WallServerOptions): Promise<WallServer> {
  const sale = simulateSale({
    seed: options.seed ?? 7,
    lanes: options.lanes,
    durationMin: options.durationMin ?? 240,
    speed: options.speed,
    auction: 'dallas',
    start: undefined,
  });
  const board = new SaleBoard(DEFAULT_SNAPSHOT_OPTIONS);
  const alerts = createAlertsState();
  const events = sale.events();
  let latestTs = sale.start;
  const warmUntil = sale.start + options.warmMin * 60_000;
  for (let next = events.next(); !next.done; next = events.next()) {
    board.apply(next.value);
    latestTs = next.value.ts;
    if (latestTs >= warmUntil) break;
  }
  const evaluate = () => {
    board.tick();
    for (const { sale: state, now } of board.saleStates()) {
      evaluateSale(alerts, saleSample(state, now, DEFAULT_ALERT_CONFIG), now, { config: DEFAULT_ALERT_CONFIG });
    }
  };
  evaluate();

  let build = 'build-1';
  // What the wall display asks of the REST API without a history: the sales, to pick the open one.
  const app = express();
  app.get('/api/sales', (_req, res) => {
    res.json(board.sales());
  });
  app.use(express.static(UI_DIST));
  const http = createServer(app);
  const io = new Server(http, { serveClient: false });
  const live = new LiveFeed(io, board, quietLog, {
    alerts: { list: ({ sale: id }) => currentAlerts(alerts, id), rules: () => DEFAULT_ALERT_CONFIG },
    build: () => build,
  });
  live.start();
  const everySecond = setInterval(evaluate, SECOND);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));

  // The rest of the sale at `speed`, each event at its place after the warm-up.
  const stopping = new AbortController();
  const wallStart = performance.now();
  const playing = (async () => {
    for (let next = events.next(); !next.done && !stopping.signal.aborted; next = events.next()) {
      const wait = wallStart + (next.value.ts - warmUntil) / options.speed - performance.now();
      if (wait > 5) await sleep(wait, undefined, { signal: stopping.signal }).catch(() => {});
      if (stopping.signal.aborted) return;
      board.apply(next.value);
      latestTs = next.value.ts;
    }
  })();

  let stopped: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    sale,
    latestTs: () => latestTs,
    setBuild: (next) => (build = next),
    pause: async () => {
      stopping.abort();
      await playing;
    },
    stop: () =>
      (stopped ??= (async () => {
        stopping.abort();
        await playing;
        clearInterval(everySecond);
        live.stop();
        await io.close();
      })()),
  };
}

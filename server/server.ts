import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Server } from 'socket.io';
import type { Config } from '../config';
import { connectInflux, type InfluxStore } from '../storage/influxdb';
import { connectRedis } from '../storage/redis';
import { sourceStatusKey } from '../storage/source-status';
import { DEFAULT_ALERT_CONFIG, loadAlertConfig } from '../alerts/config';
import { createDelivery } from '../alerts/delivery';
import type { SeasonalPrior } from '../alerts/seasonal';
import { originAllowed } from './access/credentials';
import { authenticateSockets } from './access/socket';
import { AccessStore } from './access/store';
import { AlertDesk } from './alert-desk';
import { alertSocketActions } from './alert-socket';
import { createApp } from './app';
import { BusConsumer, STREAM_START } from './bus';
import { CheckpointStore, type Checkpoint } from './checkpoint';
import { InfluxAlertHistory } from './history/alerts';
import { historyFigures } from './history/figures';
import { loadSeasonalPrior } from './history/prior';
import { HistoryRecorder, type HistoryPoint } from './history/recorder';
import { archiveSummaries } from './history/summaries';
import { LiveFeed } from './live';
import { DEFAULT_SNAPSHOT_OPTIONS } from './metrics/snapshot';
import { SaleBoard } from './sale-board';
import { uiBuild } from './ui-build';

const PRIOR_RELOAD_MS = 30 * 60_000;
const QUARTERS_A_SECOND = 4;

export interface RunningServer {
  port: number;
  board: SaleBoard;
  alerts: AlertDesk;
  stop(): Promise<void>;
}

/**
 * Starts the server: restore the latest checkpoint → read the live bus on from its position → sale
 * board → REST + socket.io on `config.server.port` (0 = any); each second, release held events and
 * record every lane's figures as history; every few seconds, checkpoint.
 */
export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  const redis = connectRedis(config.redis.url, 'lanewatch-server', log);
  // XREAD BLOCK holds its connection, so the bus gets one of its own.
  const busConnection = connectRedis(config.redis.url, 'lanewatch-server-bus', log);
  const board = new SaleBoard({ ...DEFAULT_SNAPSHOT_OPTIONS, staleAfterSec: config.server.staleAfterSec }, undefined, {
    latenessMs: config.server.lateEventSec * 1000,
  });
  const checkpoints = new CheckpointStore(redis, config.redis.stream);
  const { position: resumeFrom, wallCharts } = await restoreCheckpoint(board, checkpoints, log);
  const bus = new BusConsumer(
    busConnection,
    { stream: config.redis.stream, count: 100, blockMs: 1000 },
    (events) => {
      for (const event of events) board.apply(event);
    },
    log,
  );

  // History is not on the live path: the server runs without InfluxDB and says so in /api/health.
  let influx: InfluxStore | undefined;
  const influxReady = connectInflux(config.influx).then(
    (store) => (influx = store),
    (error: unknown) => log.warn({ err: error }, 'InfluxDB not reachable; history unavailable until restart'),
  );
  const recorder = new HistoryRecorder(() => influx, log);

  // Socket.io rooms span every server node through Redis; lane updates stay node-local (each node
  // has the same figures), alerts go to every screen from the one node that evaluates them.
  const socketPub = connectRedis(config.redis.url, 'lanewatch-server-socket-pub', log);
  const socketSub = socketPub.duplicate();
  const delivery = createDelivery(config.notify, redis, log, config.redis.stream);
  // The desk announces through socket.io, which needs the app, which needs the desk.
  const screens: { io?: Server } = {};
  const desk = new AlertDesk(redis, {
    prefix: config.redis.stream,
    config: config.alerts.rulesFile ? loadAlertConfig(config.alerts.rulesFile) : DEFAULT_ALERT_CONFIG,
    async announce(transition) {
      await delivery.queue.enqueue(transition);
      delivery.dispatcher.wake();
      screens.io?.of('/live').emit('alert', transition);
    },
    async acknowledged(alert) {
      await delivery.queue.acknowledge(alert);
      // Not a transition: the same state and number, now with who acknowledged it.
      screens.io
        ?.of('/live')
        .emit('alert', { alert, from: alert.state, to: alert.state, at: alert.acknowledgedAt ?? alert.since });
    },
    history: new InfluxAlertHistory(() => influx, log),
    prior: () => prior,
    log,
    retireSaleAfterMs: config.server.retireSaleAfterMs,
  });
  // The seasonal prior comes from the history of sales that have ended, so it is reloaded now
  // and then; until the first load (or without InfluxDB) declines use the recent level alone.
  let prior: SeasonalPrior | undefined;
  const reloadPrior = async () => {
    if (!influx) return;
    const running = board
      .sales()
      .filter((sale) => sale.state === 'open')
      .map((sale) => sale.sale);
    prior = await loadSeasonalPrior(influx, running).catch((error: unknown) => {
      log.warn({ err: error }, 'loading the seasonal prior failed; keeping the one before');
      return prior;
    });
  };
  void influxReady.then(reloadPrior);
  const priorReloads = setInterval(() => void reloadPrior(), PRIOR_RELOAD_MS);

  const access = new AccessStore(redis, config.redis.stream, config.access.sessionTtlSec);
  const app = createApp(
    board,
    {
      influx: async () => (await influx?.ping()) ?? false,
      redis: async () => (await redis.ping().catch(() => '')) === 'PONG',
      streamLagMs: () => bus.lagMs(),
    },
    () => influx,
    { ...config.access, store: access },
    { desk, push: delivery.routes },
    () => redis.hgetall(sourceStatusKey(config.redis.stream)),
  );
  const http = createServer(app);
  const { corsOrigins } = config.access;
  const io = new Server(http, {
    serveClient: false,
    adapter: createAdapter(socketPub, socketSub, { key: `${config.redis.stream}:socket.io` }),
    // A page of another site must not open a socket with the user's cookie.
    allowRequest: (req, callback) => callback(null, originAllowed(req.headers, corsOrigins)),
    ...(corsOrigins.length > 0 ? { cors: { origin: corsOrigins, credentials: true } } : {}),
  });
  const accessEnded = connectRedis(config.redis.url, 'lanewatch-server-access', log);
  await authenticateSockets(io.of('/live'), access, accessEnded, config.redis.stream);
  screens.io = io;
  // The stored alerts first: a wall second without them would end every marker the checkpoint kept open.
  await desk.load();
  const live = new LiveFeed(io, board, log, { alerts: desk, build: uiBuild(), wallCharts });
  alertSocketActions(io.of('/live'), desk);

  let savedPosition = resumeFrom;
  let savedWallCharts = wallCharts;
  const checkpoint = async () => {
    // Read together, between two stream entries: the state is exactly the entries up to `position`.
    const position = bus.lastPosition;
    // Alerts fire and resolve while no event comes too (a feed gone quiet): the charts count as a change.
    const charts = live.wallCharts();
    if (position === savedPosition && charts === savedWallCharts) return;
    const engine = board.checkpoint();
    try {
      await checkpoints.save({ position, savedAt: Date.now(), engine, wallCharts: charts });
      savedPosition = position;
      savedWallCharts = charts;
    } catch (error) {
      log.warn({ err: error }, 'saving the checkpoint failed; will try again');
    }
  };

  const retireIdleSales = () => {
    const summaries = board.retireIdle(config.server.retireSaleAfterMs);
    if (summaries.length === 0) return;
    log.info({ sales: summaries.map((summary) => summary.sale) }, 'retired idle sales from memory');
    if (!influx) {
      log.warn('InfluxDB not connected: the retired sales keep no summary');
      return;
    }
    archiveSummaries(influx, summaries).catch((error: unknown) =>
      log.warn({ err: error }, 'archiving retired sale summaries failed'),
    );
  };

  const stopping = new AbortController();
  const consuming = bus.run(resumeFrom, stopping.signal);
  let evaluating: Promise<void> | undefined;
  // The engine, history and alerts move on once a second. While an alert waits out its hold the
  // alerts (and the engine they read) move on every quarter second as well, so it fires within a
  // quarter second of the hold's end rather than up to a second after.
  let quarters = 0;
  const ticking = setInterval(() => {
    const wholeSecond = quarters++ % QUARTERS_A_SECOND === 0;
    if (!wholeSecond && !desk.holding) return;
    board.tick();
    if (wholeSecond) {
      retireIdleSales();
      recorder.record(historyPoints(board.sample()));
    }
    // A round that outlasts its slot (Redis slow) is not stacked on.
    evaluating ??= desk
      .tick(board.saleStates())
      .catch((error: unknown) => log.warn({ err: error }, 'alert evaluation failed'))
      .finally(() => (evaluating = undefined));
  }, 1000 / QUARTERS_A_SECOND);
  delivery.dispatcher.start();
  const checkpointing = setInterval(() => void checkpoint(), config.server.checkpointEverySec * 1000);
  live.start();
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.server.port, resolve);
  });
  const port = (http.address() as AddressInfo).port;
  log.info({ port, resumedFrom: resumeFrom }, 'server listening');

  return {
    port,
    board,
    alerts: desk,
    async stop() {
      stopping.abort();
      clearInterval(ticking);
      clearInterval(checkpointing);
      clearInterval(priorReloads);
      live.stop();
      await evaluating;
      await desk.stop();
      await delivery.dispatcher.stop();
      await io.close();
      busConnection.disconnect();
      await consuming;
      await checkpoint();
      await influxReady;
      await recorder.close();
      await Promise.allSettled([redis.quit(), socketPub.quit(), socketSub.quit(), accessEnded.quit(), influx?.close()]);
    },
  };
}

/**
 * Restores the latest checkpoint into `board`; returns the stream position to read on from, and
 * the wall charts saved with that engine (for the live feed to restore).
 */
async function restoreCheckpoint(
  board: SaleBoard,
  checkpoints: CheckpointStore,
  log: Logger,
): Promise<Pick<Checkpoint, 'position' | 'wallCharts'>> {
  let saved;
  try {
    saved = await checkpoints.load();
  } catch (error) {
    log.warn({ err: error }, 'could not read the checkpoint; rebuilding the figures from the whole stream');
    return { position: STREAM_START };
  }
  if (!saved) return { position: STREAM_START };
  try {
    board.restore(saved.engine);
  } catch (error) {
    log.warn({ err: error }, 'the checkpoint cannot be restored; rebuilding the figures from the whole stream');
    return { position: STREAM_START };
  }
  log.info({ position: saved.position, savedAt: new Date(saved.savedAt).toISOString() }, 'restored the checkpoint');
  return { position: saved.position, wallCharts: saved.wallCharts };
}

function historyPoints(samples: ReturnType<SaleBoard['sample']>): HistoryPoint[] {
  return samples.flatMap(({ now, lanes }) =>
    lanes.map((lane) => ({
      auction: lane.auction,
      sale: lane.sale,
      lane: lane.lane,
      ts: now,
      figures: historyFigures(lane),
    })),
  );
}

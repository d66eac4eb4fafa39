import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { Server } from 'socket.io';
import type { Config } from '../config';
import { connectInflux, type InfluxStore } from '../storage/influxdb';
import { connectRedis } from '../storage/redis';
import { createApp } from './app';
import { BusConsumer } from './bus';
import { LiveFeed } from './live';
import { DEFAULT_SNAPSHOT_OPTIONS } from './metrics/snapshot';
import { SaleBoard } from './sale-board';

export interface RunningServer {
  port: number;
  board: SaleBoard;
  stop(): Promise<void>;
}

/** Starts the server: live bus consumer → sale board → REST + socket.io on `config.server.port` (0 = any). */
export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  const redis = connectRedis(config.redis.url, 'lanewatch-server', log);
  // XREADGROUP BLOCK holds its connection, so the bus gets one of its own.
  const busConnection = connectRedis(config.redis.url, 'lanewatch-server-bus', log);
  const board = new SaleBoard({ ...DEFAULT_SNAPSHOT_OPTIONS, staleAfterSec: config.server.staleAfterSec });
  const bus = new BusConsumer(
    busConnection,
    {
      stream: config.redis.stream,
      group: config.redis.consumerGroup,
      consumer: `${hostname()}-${process.pid}`,
      count: 1000,
      blockMs: 1000,
    },
    (event) => board.apply(event),
    log,
  );

  // History is not on the live path: the server runs without InfluxDB and says so in /api/health.
  let influx: InfluxStore | undefined;
  const influxReady = connectInflux(config.influx).then(
    (store) => (influx = store),
    (error: unknown) => log.warn({ err: error }, 'InfluxDB not reachable; history unavailable until restart'),
  );

  const app = createApp(board, {
    influx: async () => (await influx?.ping()) ?? false,
    redis: async () => (await redis.ping().catch(() => '')) === 'PONG',
    streamLagMs: () => bus.lagMs(),
  });
  const http = createServer(app);
  const io = new Server(http, { serveClient: false });
  const live = new LiveFeed(io, board, log);

  const stopping = new AbortController();
  await bus.start();
  const consuming = bus.run(stopping.signal);
  live.start();
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.server.port, resolve);
  });
  const port = (http.address() as AddressInfo).port;
  log.info({ port }, 'server listening');

  return {
    port,
    board,
    async stop() {
      stopping.abort();
      live.stop();
      await io.close();
      busConnection.disconnect();
      await consuming;
      await Promise.allSettled([redis.quit(), influxReady.then(() => influx?.close())]);
    },
  };
}

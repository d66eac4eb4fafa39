/**
 * The history recorder against the real InfluxDB: exact points, idempotent re-writes, and an
 * outage (InfluxDB behind a loopback port that is closed for a while) that costs the live path
 * nothing and loses only what is beyond the queue's bound.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { connectInflux, type InfluxStore } from '../storage/influxdb';
import { HistoryRecorder, type HistoryPoint } from '../server/history/recorder';
import { dropStores, eventually, isolatedConfig, quietLog } from './helpers/stores';
import { SALE, SALE_START } from './helpers/script';

const config = isolatedConfig();
let influx: InfluxStore;

beforeAll(async () => {
  influx = await connectInflux(config.influx);
});

afterAll(async () => {
  await influx?.close();
  await dropStores(config);
});

const point = (lane: string, ms: number, figures: HistoryPoint['figures']): HistoryPoint => ({
  auction: 'dallas',
  sale: SALE,
  lane,
  ts: SALE_START + ms,
  figures,
});

async function stored(sale = SALE): Promise<unknown[][]> {
  const [series] = await influx.query(
    `SELECT "auction", "lane", "sale", "onlineBidders", "grossSales" FROM "lane_metrics" WHERE sale = '${sale}'`,
  );
  return series?.values ?? [];
}

async function written(recorder: HistoryRecorder, count: number): Promise<void> {
  await eventually(() => (recorder.stats().written >= count ? true : undefined));
}

describe('history recorder', () => {
  it('writes one point per lane and second, floored to the second, the last point of a second winning', async () => {
    const recorder = new HistoryRecorder(() => influx, quietLog, { flushIntervalMs: 20 });
    recorder.record([
      point('1', 200, { onlineBidders: 9, grossSales: null }),
      point('2', 999, { onlineBidders: 4, grossSales: 0 }),
    ]);
    recorder.record([
      point('1', 900, { onlineBidders: 10, grossSales: 1500 }),
      point('1', 1000, { onlineBidders: 11.5, grossSales: Number.NaN }),
      point('3', 0, { onlineBidders: null, grossSales: null }),
    ]);
    await written(recorder, 3);
    await recorder.close();

    expect(await stored()).toEqual([
      [SALE_START, 'dallas', '1', SALE, 10, 1500],
      [SALE_START, 'dallas', '2', SALE, 4, 0],
      [SALE_START + 1000, 'dallas', '1', SALE, 11.5, null],
    ]);
    expect(recorder.stats()).toEqual({ written: 3, dropped: 0, pending: 0 });
  });

  it('leaves history as it was when the same points are written again', async () => {
    const before = await stored();
    const recorder = new HistoryRecorder(() => influx, quietLog, { flushIntervalMs: 20 });
    recorder.record([point('1', 900, { onlineBidders: 10, grossSales: 1500 })]);
    recorder.record([point('2', 999, { onlineBidders: 4, grossSales: 0 })]);
    await written(recorder, 2);
    await recorder.close();
    expect(before).toHaveLength(3);
    expect(await stored()).toEqual(before);
  });

  it('writes what is queued on close', async () => {
    const recorder = new HistoryRecorder(() => influx, quietLog, { flushIntervalMs: 60_000 });
    recorder.record([{ ...point('1', 0, { onlineBidders: 1 }), sale: 'closing' }]);
    expect(recorder.stats()).toEqual({ written: 0, dropped: 0, pending: 1 });
    await recorder.close();
    expect(recorder.stats()).toEqual({ written: 1, dropped: 0, pending: 0 });
    expect(await stored('closing')).toEqual([[SALE_START, 'dallas', '1', 'closing', 1, null]]);
  });

  it('drops and counts points InfluxDB refuses, without retrying them', async () => {
    // A field first stored as a string makes InfluxDB refuse a number for it as a type conflict.
    // Field types are kept per shard (a week), so this is a week that holds no other test's points.
    const lastYear = -365 * 86_400_000;
    await influx.writeLines([
      `lane_metrics,auction=dallas,lane=1,sale=refused onlineBidders="many" ${SALE_START + lastYear}000000`,
    ]);
    const recorder = new HistoryRecorder(() => influx, quietLog, { flushIntervalMs: 20 });
    recorder.record([
      { ...point('1', lastYear, { onlineBidders: 5 }), sale: 'refused' },
      { ...point('2', lastYear, { grossSales: 5 }), sale: 'refused' },
    ]);
    await eventually(() => (recorder.stats().pending === 0 ? true : undefined));
    await recorder.close();
    expect(recorder.stats()).toEqual({ written: 1, dropped: 1, pending: 0 });
  });
});

/** A loopback port that forwards to InfluxDB while open and refuses connections while closed. */
class Gate {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(private readonly target: URL) {}

  async open(): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(Number(this.target.port), this.target.hostname);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
    });
    const server = this.server;
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    const server = this.server;
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => server?.close(resolve));
  }
}

describe('history recorder while InfluxDB is unreachable', () => {
  const gate = new Gate(new URL(config.influx.url));
  const logLines: { msg: string; dropped?: number; pending?: number }[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => logLines.push(JSON.parse(line)) });
  let throughGate: InfluxStore;
  let recorder: HistoryRecorder;

  beforeAll(async () => {
    await gate.open();
    throughGate = await connectInflux({ ...config.influx, url: `http://127.0.0.1:${gate.port}` });
    await gate.close();
    recorder = new HistoryRecorder(() => throughGate, log, {
      flushIntervalMs: 10,
      batchSize: 2,
      maxPending: 5,
      retryDelayMs: 10,
      maxRetryDelayMs: 40,
    });
  });

  afterAll(async () => {
    await recorder?.close();
    await throughGate?.close();
    await gate.close();
  });

  const outagePoint = (second: number) => ({ ...point('1', second * 1000, { onlineBidders: second }), sale: 'outage' });
  const failures = () => logLines.filter((line) => line.msg === 'history write failed').length;
  const failuresLogged = (count: number) => eventually(() => (failures() >= count ? true : undefined));

  it('queues without throwing, and beyond its bound drops the oldest points and counts them', async () => {
    expect(() => recorder.record([0, 1, 2, 3, 4, 5, 6, 7].map(outagePoint))).not.toThrow();
    expect(recorder.stats()).toEqual({ written: 0, dropped: 3, pending: 5 });
    await failuresLogged(1);
    expect(logLines[0]).toMatchObject({ msg: 'history write failed', pending: 5, dropped: 3 });

    expect(() => recorder.record([outagePoint(8)])).not.toThrow();
    await failuresLogged(failures() + 1);
    expect(recorder.stats()).toEqual({ written: 0, dropped: 4, pending: 5 });
  });

  it('delivers the queued points once InfluxDB answers again', async () => {
    await gate.open();
    await written(recorder, 5);
    expect(recorder.stats()).toEqual({ written: 5, dropped: 4, pending: 0 });
    const [series] = await influx.query(`SELECT "onlineBidders" FROM "lane_metrics" WHERE sale = 'outage'`);
    expect(series?.values).toEqual([4, 5, 6, 7, 8].map((second) => [SALE_START + second * 1000, second]));
  });
});

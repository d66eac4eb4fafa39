/**
 * `npm run bench:alerts` (second part) — how soon a firing alert reaches the wall display and a
 * webhook, through the real server on the real Redis and InfluxDB (started or reused like the demo).
 *
 * An 11-lane sale is put on the live bus: five minutes of steady attendance (stamped in the past,
 * sent at once, so the lanes are out of warmup with a settled baseline), then live at 1× — stamped
 * with the wall clock, a heartbeat a second, each lane's attendance every 5 s and a car every 40 s.
 * Eight lanes then lose half their online bidders 10 s apart (each news on its own), and three
 * more together (one message at once, the rest grouped 5 s later). Each lane decline fires once
 * its 30 s hold is over; a socket.io screen and a loopback webhook note when they hear of it.
 *
 * Per alert:
 * - hold over: the first low sample's time + the rule's hold (event time = wall time here);
 * - fired: the alert's `firedAt`, the server's evaluation that fired it — within a quarter second
 *   of the hold's end, as evaluations come four times a second while an alert is pending (the
 *   hold counts from the sample's own time, so the reorder window, LATE_EVENT_SEC, does not add);
 * - fired → wall and → webhook: arrival minus `fired`;
 * - hold over → wall and → webhook: the whole wait a manager sees, which the targets bound
 *   (< 1 s and < 2 s after the hold time).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { io, type Socket } from 'socket.io-client';
import { loadConfig } from '../config';
import type { LaneEvent } from '../collector/events';
import { RedisStreamSink } from '../collector/sinks/redis-stream';
import { DEFAULT_ALERT_CONFIG } from '../alerts/config';
import type { AlertNotification } from '../alerts/notify/notifier';
import type { AlertTransition } from '../alerts/types';
import { startServices } from '../scripts/services';
import { startServer } from '../server/server';
import type { ClientToServerEvents, ServerToClientEvents } from '../server/wire';
import { connectInflux } from '../storage/influxdb';
import { connectRedis } from '../storage/redis';
import { grantToken } from '../test/helpers/access';

const STAGGERED = 8;
const TOGETHER = 3;
const LANES = Array.from({ length: STAGGERED + TOGETHER }, (_, i) => String(i + 1));
const ONLINE = 40;
const WARM_MS = 5 * 60_000;
const SAMPLE_EVERY_S = 5;
const FIRST_DROP_AFTER_S = 10;
/**
 * A lane's drop shows at its next sample, up to 4 s later; 10 s apart, each lane fires more than
 * the delivery's 5 s grouping wait after the one before, so each is news on its own (7 s was
 * not: lanes then fired 4 s apart and rightly waited for the sale's next message).
 */
const STAGGER_S = 10;
const RUN_EVERY_S = 40;
const TIMEOUT_MS = 180_000;
const HOLD_MS = DEFAULT_ALERT_CONFIG['attendance.decline'].lane.holdSec * 1000;
const AUCTION = 'benchville';
const SALE = `bench-${randomUUID().slice(0, 8)}`;

interface Heard {
  /** Event time the lane's first low sample carried. */
  lowSampleAt?: number;
  firedAt?: number;
  wallAt?: number;
  webhookAt?: number;
  /** Alerts in the webhook message that carried it. */
  messageSize?: number;
}

const base = loadConfig();
const services = await startServices(base, { log: () => {} });
const id = randomUUID().slice(0, 8);
const notifyFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lanewatch-bench-notify-')), 'notify.json');
fs.writeFileSync(
  notifyFile,
  JSON.stringify({ channels: [{ type: 'webhook', name: 'ops', format: 'json', url: 'env:HOOK' }] }),
);

const heard = new Map<string, Heard>(LANES.map((lane) => [lane, {}]));
const receiver = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const arrived = Date.now();
    const message = JSON.parse(Buffer.concat(chunks).toString()) as AlertNotification;
    for (const item of message.items) {
      const lane = item.alert.lane;
      if (item.reason !== 'firing' || item.alert.rule !== 'attendance.decline' || lane === undefined) continue;
      const entry = heard.get(lane);
      if (entry && entry.webhookAt === undefined)
        Object.assign(entry, { webhookAt: arrived, messageSize: message.items.length });
    }
    res.writeHead(204).end();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));

const config = loadConfig({
  INFLUX_URL: services.influxUrl,
  REDIS_URL: services.redisUrl,
  INFLUX_DB: `lanewatch_bench_${id}`,
  REDIS_STREAM: `lanewatch:bench:${id}:events`,
  PORT: '0',
  LOG_LEVEL: 'silent',
  NOTIFY_CONFIG: notifyFile,
  HOOK: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
});
const server = await startServer(config, pino({ level: 'silent' }));
// A screen is a viewer, as the control-room TV's kiosk token makes it.
const screen: Socket<ServerToClientEvents, ClientToServerEvents> = io(`http://127.0.0.1:${server.port}/live`, {
  transports: ['websocket'],
  auth: { token: await grantToken(config, 'viewer', 'bench screen') },
});
screen.on('connect_error', (error) => {
  console.error(`the bench's screen could not connect: ${error.message}`);
  process.exitCode = 1;
});
screen.on('alert', (transition: AlertTransition) => {
  const { alert } = transition;
  if (transition.to !== 'firing' || transition.from === 'firing' || alert.rule !== 'attendance.decline') return;
  const entry = alert.lane === undefined ? undefined : heard.get(alert.lane);
  if (entry && entry.wallAt === undefined) Object.assign(entry, { wallAt: Date.now(), firedAt: alert.firedAt });
});

const busRedis = connectRedis(config.redis.url, 'lanewatch-bench-bus');
const bus = new RedisStreamSink(busRedis, config.redis.stream, 1_000_000);
let sequence = 0;
const publish = (events: LaneEvent[]) => bus.write({ id: `batch-${sequence++}`, events });
const event = (type: LaneEvent['type'], ts: number, fields: Record<string, unknown> = {}): LaneEvent =>
  ({
    id: `e${sequence}-${randomUUID()}`,
    type,
    ts,
    source: 'bench',
    auction: AUCTION,
    sale: SALE,
    ...fields,
  }) as LaneEvent;

/** Each lane samples every 5 s, the lanes spread over those 5 s as real feeds are. */
const samplesAt = (second: number) => LANES.filter((_, i) => (second + i) % SAMPLE_EVERY_S === 0);
/** Each staggered lane drops 10 s after the one before; the last three drop together after them. */
const dropSecond = (lane: string) => FIRST_DROP_AFTER_S + STAGGER_S * Math.min(Number(lane) - 1, STAGGERED);
const onlineAt = (lane: string, second: number, live: boolean) =>
  live && second >= dropSecond(lane) ? ONLINE / 2 : ONLINE + ((second + Number(lane)) % 3) - 1;

const started = Date.now();
try {
  // Warm-up: five minutes of a steady sale, stamped in the past and sent at once.
  const warmFrom = started - WARM_MS;
  const opening = [event('sale.opened', warmFrom, { name: 'Bench sale' })];
  for (const lane of LANES) opening.push(event('lane.opened', warmFrom, { lane, auctioneer: 'Ann', clerk: 'Carl' }));
  await publish(opening);
  for (let second = 1; second < WARM_MS / 1000; second += 30) {
    const batch: LaneEvent[] = [];
    for (let s = second; s < second + 30 && s < WARM_MS / 1000; s++)
      batch.push(...secondOf(s, warmFrom + s * 1000, false));
    await publish(batch);
  }

  // Live at 1×: one beat a second on the wall clock until every alert was heard or time is up.
  const liveFrom = Date.now();
  for (let second = 0; Date.now() - liveFrom < TIMEOUT_MS; second++) {
    const events = secondOf(second, Date.now(), true);
    for (const sample of events) {
      const lane = 'lane' in sample ? sample.lane : undefined;
      const entry = lane === undefined ? undefined : heard.get(lane);
      if (sample.type === 'attendance' && entry && entry.lowSampleAt === undefined && sample.online < ONLINE - 5) {
        entry.lowSampleAt = sample.ts;
      }
    }
    await publish(events);
    if ([...heard.values()].every((entry) => entry.wallAt !== undefined && entry.webhookAt !== undefined)) break;
    await new Promise((resolve) => setTimeout(resolve, liveFrom + (second + 1) * 1000 - Date.now()));
  }
  report();
} finally {
  screen.close();
  await server.stop();
  await busRedis.quit();
  await new Promise((resolve) => receiver.close(resolve));
  const influx = await connectInflux(config.influx);
  await influx.query(`DROP DATABASE "${config.influx.database}"`);
  await influx.close();
  const cleanup = connectRedis(config.redis.url, 'lanewatch-bench-cleanup');
  const keys = await cleanup.keys(`${config.redis.stream}*`);
  if (keys.length > 0) await cleanup.del(...keys);
  await cleanup.quit();
  await services.stop();
}

/**
 * What the feed sends in one second: a heartbeat; the attendance of the lanes due to sample; and
 * a car every 40 s per lane, up then sold 30 s later (a lane with no cars would be `lane.stalled`,
 * which rightly holds its decline back).
 */
function secondOf(second: number, ts: number, live: boolean): LaneEvent[] {
  const events = [event('heartbeat', ts)];
  for (const lane of samplesAt(second))
    events.push(event('attendance', ts, { lane, online: onlineAt(lane, second, live) }));
  const runSecond = (live ? WARM_MS / 1000 : 0) + second;
  const run = Math.floor(runSecond / RUN_EVERY_S) + 1;
  for (const lane of LANES) {
    if (runSecond % RUN_EVERY_S === 0) events.push(event('vehicle.up', ts, { lane, run }));
    if (runSecond % RUN_EVERY_S === 30)
      events.push(event('vehicle.sold', ts, { lane, run, price: 9000, channel: 'floor' }));
  }
  return events;
}

function report(): void {
  const rows = [...heard.entries()];
  const missing = rows.filter(([, entry]) => entry.wallAt === undefined || entry.webhookAt === undefined);
  const complete = rows
    .slice(0, STAGGERED)
    .map(([, entry]) => entry)
    .filter(
      (entry): entry is Required<Heard> =>
        entry.lowSampleAt !== undefined &&
        entry.firedAt !== undefined &&
        entry.wallAt !== undefined &&
        entry.webhookAt !== undefined &&
        entry.messageSize !== undefined,
    );
  const holdOver = (entry: Required<Heard>) => entry.lowSampleAt + HOLD_MS;
  const figures = {
    'hold over → fired': complete.map((entry) => entry.firedAt - holdOver(entry)),
    'fired → wall': complete.map((entry) => entry.wallAt - entry.firedAt),
    'fired → webhook': complete.map((entry) => entry.webhookAt - entry.firedAt),
    'hold over → wall': complete.map((entry) => entry.wallAt - holdOver(entry)),
    'hold over → webhook': complete.map((entry) => entry.webhookAt - holdOver(entry)),
  };
  const together = rows.slice(STAGGERED).map(([, entry]) => entry.messageSize);

  console.log(
    `\nAlert delivery — ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}`,
  );
  console.log(
    `  ${STAGGERED} lane declines on their own (hold ${HOLD_MS / 1000} s, reorder window ${config.server.lateEventSec} s), load ${os
      .loadavg()
      .map((load) => load.toFixed(2))
      .join(' ')}`,
  );
  for (const [name, values] of Object.entries(figures)) {
    const sorted = [...values].sort((a, b) => a - b);
    const p50 = sorted[Math.floor((sorted.length - 1) / 2)] ?? NaN;
    console.log(`  ${name.padEnd(22)} median ${ms(p50)}   max ${ms(sorted.at(-1) ?? NaN)}`);
  }
  const worst = (name: keyof typeof figures) => Math.max(...figures[name]);
  console.log(`  target hold over → wall < 1 s: ${worst('hold over → wall') < 1000 ? 'met' : 'NOT met'}`);
  console.log(`  target hold over → webhook < 2 s: ${worst('hold over → webhook') < 2000 ? 'met' : 'NOT met'}`);
  const togetherAt = rows.slice(STAGGERED).map(([, entry]) => (entry.webhookAt ?? NaN) - (entry.firedAt ?? NaN));
  console.log(
    `  ${TOGETHER} lanes dropping together: webhook messages of ${together.join(', ')} alerts, ` +
      `${togetherAt.map((wait) => ms(wait).trim()).join(', ')} after each fired`,
  );
  if (missing.length > 0)
    console.log(`  NOT HEARD within ${TIMEOUT_MS / 1000} s: lanes ${missing.map(([lane]) => lane).join(', ')}`);
}

function ms(value: number): string {
  return `${Math.round(value)} ms`.padStart(8);
}

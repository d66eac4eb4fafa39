/**
 * A decline fires when its hold is over, not at the server's next whole second: eight lanes of a
 * live sale (events stamped with the wall clock, as a real feed's are) lose half their online
 * bidders, each at its own eighth of a second, so their holds end spread over the second. Every
 * one must fire within a little over a quarter second of its hold's end — evaluating only once a
 * second, one of them would wait at least 875 ms. The hold is cut to 5 s to keep the test short.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_ALERT_CONFIG } from '../../alerts/config';
import type { LaneEvent } from '../../collector/events';
import { RedisStreamSink } from '../../collector/sinks/redis-stream';
import { startServer, type RunningServer } from '../../server/server';
import type { ClientToServerEvents, ServerToClientEvents } from '../../server/wire';
import { connectRedis } from '../../storage/redis';
import { grantToken } from '../helpers/access';
import { dropStores, isolatedConfig, quietLog } from '../helpers/stores';

const LANES = Array.from({ length: 8 }, (_, i) => String(i + 1));
const HOLD_SEC = 5;
const ONLINE = 40;
const STEP_MS = 1000 / LANES.length;
const WARM_MS = 5 * 60_000;
/** A car up every 40 s and sold 30 s later on each lane: a lane without cars is `lane.stalled`. */
const RUN_EVERY_S = 40;
const SALE = `timing-${randomUUID().slice(0, 8)}`;
/** Each lane's attendance drops from its sample in this second of the live part (lane 1 first). */
const dropSecond = (lane: number) => 2 + lane;
/** Evaluations come four times a second while an alert is pending; the rest is a loaded machine. */
const FIRED_WITHIN_MS = 600;

let config: ReturnType<typeof isolatedConfig>;
let server: RunningServer;
let screen: Socket<ServerToClientEvents, ClientToServerEvents>;
let busRedis: ReturnType<typeof connectRedis>;
/** Per lane: the event time of its first low sample, and the `firedAt` of its decline. */
const lowSampleAt = new Map<string, number>();
const firedAt = new Map<string, number>();

let sequence = 0;
const event = (type: LaneEvent['type'], ts: number, fields: Record<string, unknown> = {}): LaneEvent =>
  ({ id: `t${sequence++}`, type, ts, source: 'timing', auction: 'timingville', sale: SALE, ...fields }) as LaneEvent;

/** One lane's attendance (and its cars) at `second` of the sale; `live`: the drop may have come. */
function laneSecond(laneIndex: number, second: number, ts: number, live: boolean): LaneEvent[] {
  const lane = LANES[laneIndex] as string;
  const low = live && second - WARM_MS / 1000 >= dropSecond(laneIndex);
  const events = [event('attendance', ts, { lane, online: low ? ONLINE / 2 : ONLINE + (second % 3) - 1 })];
  const run = Math.floor(second / RUN_EVERY_S) + 1;
  if (second % RUN_EVERY_S === 0) events.push(event('vehicle.up', ts, { lane, run }));
  if (second % RUN_EVERY_S === 30) events.push(event('vehicle.sold', ts, { lane, run, price: 9000, channel: 'floor' }));
  if (low && !lowSampleAt.has(lane)) lowSampleAt.set(lane, ts);
  return events;
}

beforeAll(async () => {
  const rules = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lanewatch-rules-')), 'rules.json');
  const decline = DEFAULT_ALERT_CONFIG['attendance.decline'];
  fs.writeFileSync(
    rules,
    JSON.stringify({
      ...DEFAULT_ALERT_CONFIG,
      'attendance.decline': { ...decline, lane: { ...decline.lane, holdSec: HOLD_SEC } },
    }),
  );
  config = isolatedConfig({ ALERT_RULES: rules });
  server = await startServer(config, quietLog);
  screen = io(`http://127.0.0.1:${server.port}/live`, {
    transports: ['websocket'],
    auth: { token: await grantToken(config, 'viewer', 'timing screen') },
  });
  screen.on('alert', ({ alert, to, from }) => {
    if (alert.rule === 'attendance.decline' && alert.lane !== undefined && to === 'firing' && from !== 'firing')
      if (!firedAt.has(alert.lane)) firedAt.set(alert.lane, alert.firedAt ?? NaN);
  });
  await new Promise<void>((resolve) => screen.on('connect', resolve));

  busRedis = connectRedis(config.redis.url, 'alert-timing-bus');
  const bus = new RedisStreamSink(busRedis, config.redis.stream, 1_000_000);
  const publish = (events: LaneEvent[]) => bus.write({ id: `batch-${sequence++}`, events });

  // Five minutes of a steady sale, stamped in the past and sent at once: the baselines settle.
  const liveFrom = Date.now();
  const warmFrom = liveFrom - WARM_MS;
  const warm = [event('sale.opened', warmFrom, { name: 'Timing sale' })];
  for (const lane of LANES) warm.push(event('lane.opened', warmFrom, { lane, auctioneer: 'Ann', clerk: 'Carl' }));
  for (let second = 1; second < WARM_MS / 1000; second++) {
    warm.push(event('heartbeat', warmFrom + second * 1000));
    if (second % 5 === 0) LANES.forEach((_, i) => warm.push(...laneSecond(i, second, warmFrom + second * 1000, false)));
  }
  await publish(warm);

  // Live: a step every eighth of a second, each lane sampled in its own step.
  const deadline = liveFrom + (dropSecond(LANES.length) + HOLD_SEC + 10) * 1000;
  for (let step = 0; firedAt.size < LANES.length && Date.now() < deadline; step++) {
    const ts = Date.now();
    const second = WARM_MS / 1000 + Math.floor(step / LANES.length);
    await publish([event('heartbeat', ts), ...laneSecond(step % LANES.length, second, ts, true)]);
    await new Promise((resolve) => setTimeout(resolve, liveFrom + (step + 1) * STEP_MS - Date.now()));
  }
}, 60_000);

afterAll(async () => {
  screen?.close();
  await server?.stop();
  await busRedis?.quit();
  if (config) await dropStores(config);
});

it('fires each lane decline within a quarter second or so of the end of its hold', () => {
  expect([...firedAt.keys()].sort()).toEqual([...LANES].sort());
  const late = LANES.map((lane) => (firedAt.get(lane) ?? NaN) - ((lowSampleAt.get(lane) ?? NaN) + HOLD_SEC * 1000));
  for (const ms of late) {
    expect(ms).toBeGreaterThanOrEqual(0);
    expect(ms).toBeLessThan(FIRED_WITHIN_MS);
  }
});

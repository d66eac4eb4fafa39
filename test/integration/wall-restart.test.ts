/**
 * A server restarted mid-sale on the real Redis and InfluxDB still shows, on a wall screen that
 * joins it, the alert markers it showed before: they went into the checkpoint with the engine
 * (server/chart-checkpoint.ts), not only into memory. The desk cannot give back the marker of an
 * alert that resolved before the restart — it lists that alert without its episode — and a marker
 * still open goes on as the same marker only if the restarted wall sees the desk's alerts from its
 * first second.
 *
 * A feed written straight onto the stream, stamped with the wall clock: lanes 1 and 2 report their
 * online bidders four times a second. Lane 2 goes quiet until its `feed.stale` fires (limit cut to
 * 2 s, no warm-up) and speaks again, which resolves it; then goes quiet again across the restart
 * and speaks once the restarted server runs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ALERT_CONFIG } from '../../alerts/config';
import type { LaneEvent } from '../../collector/events';
import { parseChartHistory } from '../../server/chart-checkpoint';
import { CheckpointStore } from '../../server/checkpoint';
import { startServer, type RunningServer } from '../../server/server';
import type { AlertMarker, ClientToServerEvents, ServerToClientEvents, WallDelta } from '../../server/wire';
import { BUS_BATCH_FIELD, BUS_COUNT_FIELD, connectRedis } from '../../storage/redis';
import { grantToken } from '../helpers/access';
import { dropStores, eventually, isolatedConfig, quietLog } from '../helpers/stores';

const SALE = 'restartville-wall';
const QUIET_LANE = '2';
const rules = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lanewatch-rules-')), 'rules.json');
fs.writeFileSync(
  rules,
  JSON.stringify({
    ...DEFAULT_ALERT_CONFIG,
    warmup: { minutes: 0, samples: 0 },
    // A 2 s limit, whatever gaps the quiet spells leave among the lane's 250 ms ones.
    'feed.stale': { ...DEFAULT_ALERT_CONFIG['feed.stale'], minSec: 2, gapPercentile: 50 },
  }),
);
const config = isolatedConfig({ ALERT_RULES: rules, CHECKPOINT_EVERY_SEC: '1' });
const redis = connectRedis(config.redis.url, 'wall-restart-test');
const checkpoints = new CheckpointStore(redis, config.redis.stream);

let server: RunningServer | undefined;
let writing: NodeJS.Timeout | undefined;
let laneQuiet = false;
let sent = 0;
/** The quiet lane's markers on a screen joining the first server just before it stopped. */
let before: AlertMarker[];
/** What the checkpoint held of them once the first server had stopped. */
let checkpointed: AlertMarker[];
/** The same on a screen joining the server started after it; and once the open one resolved. */
let afterRestart: AlertMarker[];
let afterResolved: AlertMarker[];
/** When the second spell resolved, by the restarted server's desk. */
let resolvedAt: number | undefined;
/** The source's feed.stale marker in the checkpoint, once the whole feed had gone quiet. */
let savedWhileQuiet: AlertMarker;

function event(type: LaneEvent['type'], fields: Record<string, unknown>): LaneEvent {
  sent++;
  return {
    id: `e${sent}`,
    type,
    ts: Date.now(),
    source: 'feed-1',
    auction: 'restartville',
    sale: SALE,
    ...fields,
  } as LaneEvent;
}

async function append(events: LaneEvent[]): Promise<void> {
  await redis.xadd(
    config.redis.stream,
    '*',
    BUS_COUNT_FIELD,
    String(events.length),
    BUS_BATCH_FIELD,
    JSON.stringify(events),
  );
}

/** The quiet lane's markers on the wall of a screen that starts watching `node` now. */
async function wallMarkers(node: RunningServer, token: string): Promise<AlertMarker[]> {
  const screen: Socket<ServerToClientEvents, ClientToServerEvents> = io(`http://127.0.0.1:${node.port}/live`, {
    transports: ['websocket'],
    auth: { token },
  });
  try {
    const first = new Promise<WallDelta>((resolve) => screen.once('wall', resolve));
    const reply = await screen.emitWithAck('watch', { sale: SALE, view: 'wall' });
    if (!reply.ok) throw new Error(reply.error);
    const delta = await first;
    return delta.lanes.find((lane) => lane.lane === QUIET_LANE)?.chart.markers ?? [];
  } finally {
    screen.close();
  }
}

/** The quiet lane's `feed.stale` alert as the server's desk has it. */
function quietLaneStale(node: RunningServer) {
  return node.alerts.list({ sale: SALE }).find((a) => a.rule === 'feed.stale' && a.lane === QUIET_LANE);
}

/** Waits until the quiet lane's `feed.stale` is in `state` on `node`'s desk. */
async function staleIs(node: RunningServer, state: 'firing' | 'resolved') {
  return eventually(() => {
    const alert = quietLaneStale(node);
    return alert?.state === state ? alert : undefined;
  }, 15_000);
}

beforeAll(async () => {
  const first = await startServer(config, quietLog);
  server = first;
  const token = await grantToken(config, 'viewer');
  await append([
    event('sale.opened', { name: 'Wall restart' }),
    event('lane.opened', { lane: '1', auctioneer: 'Ann', clerk: 'Carl' }),
    event('lane.opened', { lane: QUIET_LANE, auctioneer: 'Bo', clerk: 'Dee' }),
  ]);
  writing = setInterval(() => {
    const lanes = laneQuiet ? ['1'] : ['1', QUIET_LANE];
    void append(lanes.map((lane) => event('attendance', { lane, online: 20 })));
  }, 250);
  await new Promise((resolve) => setTimeout(resolve, 3000));

  // One quiet spell over before the restart, a second one still on across it.
  laneQuiet = true;
  await staleIs(first, 'firing');
  laneQuiet = false;
  await staleIs(first, 'resolved');
  laneQuiet = true;
  await staleIs(first, 'firing');
  // Saved by the periodic checkpoint, before anything stops the server.
  await eventually(async () => {
    const saved = (await checkpoints.load())?.wallCharts;
    const markers = saved === undefined ? [] : (parseChartHistory(saved).get(SALE)?.lanes[QUIET_LANE]?.markers ?? []);
    return markers.length === 2 ? true : undefined;
  }, 10_000);
  before = await wallMarkers(first, token);

  await first.stop();
  server = undefined;
  checkpointed =
    parseChartHistory((await checkpoints.load())?.wallCharts ?? '').get(SALE)?.lanes[QUIET_LANE]?.markers ?? [];
  server = await startServer(config, quietLog);
  const restarted = server;
  afterRestart = await wallMarkers(restarted, token);

  laneQuiet = false;
  resolvedAt = (await staleIs(restarted, 'resolved')).resolvedAt;
  afterResolved = await eventually(async () => {
    const markers = await wallMarkers(restarted, token);
    return markers.every((m) => m.to !== null) ? markers : undefined;
  });

  // The whole feed quiet: its source's feed.stale fires while the stream position stands still.
  clearInterval(writing);
  const sourceStale = await eventually(
    () =>
      restarted.alerts
        .list({ sale: SALE })
        .find((a) => a.rule === 'feed.stale' && a.scope === 'source' && a.state === 'firing'),
    15_000,
  );
  savedWhileQuiet = await eventually(async () => {
    const markers = parseChartHistory((await checkpoints.load())?.wallCharts ?? '').get(SALE)?.sale.markers ?? [];
    return markers.find((m) => m.key === sourceStale.key && m.from === sourceStale.firedAt);
  }, 10_000);
}, 90_000);

afterAll(async () => {
  clearInterval(writing);
  await server?.stop();
  await redis.quit();
  await dropStores(config);
  fs.rmSync(path.dirname(rules), { recursive: true, force: true });
});

describe('wall charts across a server restart', () => {
  it('showed the quiet lane’s two feed.stale markers before the restart, the second one open', () => {
    const stale = {
      key: `feed.stale|restartville|${SALE}|lane:${QUIET_LANE}`,
      rule: 'feed.stale',
      severity: 'critical',
    };
    expect(before).toEqual([
      { ...stale, from: expect.any(Number), to: expect.any(Number) },
      { ...stale, from: expect.any(Number), to: null },
    ]);
    expect(checkpointed).toEqual(before);
  });

  it('shows a screen that joins the restarted server the same markers, the open one still open', () => {
    expect(afterRestart).toEqual(before);
  });

  it('ends the open marker when its alert resolves on the restarted server, still one marker', () => {
    expect(resolvedAt).toBeDefined();
    expect(afterResolved).toEqual([before[0], { ...before[1], to: resolvedAt }]);
  });

  it('checkpoints the charts when only they changed: a feed gone quiet moves no stream position', () => {
    expect(savedWhileQuiet).toMatchObject({ rule: 'feed.stale', to: null });
  });
});

/**
 * 10,000 malformed, truncated, oversized and wrong-typed messages (seeded) interleaved with a real
 * sale's events, pushed through the webhook and a websocket feed into the real InfluxDB and Redis:
 * every bad message is rejected with a reason, every good event is stored exactly once, and the
 * collector keeps answering.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LaneEvent } from '../../collector/events';
import { startCollector, type RunningCollector } from '../../collector/collector';
import { contractEvents } from '../../collector/normalize';
import { measurementOf } from '../../collector/sinks/influxdb';
import { simulateSale } from '../../collector/sources/simulator';
import { Random } from '../../collector/sources/simulator/random';
import { WebsocketSource } from '../../collector/sources/websocket';
import { connectInflux, quoteLiteral, type InfluxStore } from '../../storage/influxdb';
import { startFeedServer, type FeedServer } from '../helpers/feed-server';
import { busEvents } from '../helpers/bus';
import { dropStores, eventually, isolatedConfig, quietLog } from '../helpers/stores';

const MAX_BODY = 256 * 1024;
const BAD_PER_PATH = 5000;
const SCALAR_BODIES = ['42', 'null', '"events"', 'true', '3.5'];
/** Bodies refused whole (400/413); each counts as one of the webhook's bad messages. */
const WHOLE_BODIES = { garbage: 20, truncated: 10, scalar: SCALAR_BODIES.length, oversized: 5 };
const SECRET = 'fuzz-secret';

const config = isolatedConfig({ INGEST_MAX_BYTES: String(MAX_BODY) });
const random = new Random(20261123, 'fuzz');
const sale = simulateSale({
  seed: 5,
  lanes: 2,
  durationMin: 30,
  speed: 0,
  auction: 'fuzzville',
  start: Date.UTC(2026, 10, 23, 14, 0),
});
const valid = [...sale.events()];
const viaWebhook = valid.filter((_, i) => i % 2 === 0);
const viaFeed = valid.filter((_, i) => i % 2 === 1);
/** Well-formed events that only ever travel inside refused bodies: none may be stored. */
const refusedSale = `${sale.sale}-refused`;

const wrongTyped: ((e: LaneEvent) => unknown)[] = [
  (e) => ({ ...e, ts: Math.floor(e.ts / 1000) }),
  (e) => ({ ...e, ts: new Date(e.ts).toISOString() }),
  (e) => ({ ...e, id: 'x'.repeat(random.int(201, 4000)) }),
  (e) => ({ ...e, type: 'vehicle.teleported' }),
  (e) => ({ ...e, sale: undefined }),
  (e) => ({ ...e, auction: 42 }),
  (e) => ({ ...e, seq: -1 }),
  (e) => ({ ...e, type: 'attendance', lane: '1', online: -5 }),
  (e) => ({ ...e, type: 'bid', lane: '1', run: 3, amount: '12500', channel: 'online' }),
  (e) => ({ ...e, type: 'bid', lane: '1', run: 3, amount: 12500, channel: 'phone' }),
  (e) => ({ ...e, type: 'vehicle.sold', lane: '1', run: 3, price: 9.99, channel: 'online' }),
  (e) => ({ ...e, ts: 'soon', blob: 'y'.repeat(random.int(10_000, 60_000)) }),
  () => null,
  () => random.int(-1e6, 1e6),
  () => 'an event',
  () => [],
  () => ({}),
];
/** None of these parses as JSON, and none holds a line break (each is one NDJSON line). */
const notJson: ((e: LaneEvent) => string)[] = [
  (e) => JSON.stringify(e).slice(0, random.int(1, JSON.stringify(e).length - 1)),
  (e) => `${JSON.stringify(e)}}`,
  (e) => `<event id="${e.id}" type="${e.type}"/>`,
  (e) => `{'id': '${e.id}'}`,
  () => `~${Array.from({ length: random.int(0, 200) }, () => String.fromCharCode(random.int(32, 0x2fff))).join('')}`,
];

const garbageText = () => random.pick(notJson)(random.pick(valid));

/** A wrong-typed JSON value, or (when `notJsonToo`) sometimes text that is not JSON at all. */
function badText(notJsonToo: boolean): string {
  if (notJsonToo && random.chance(0.4)) return garbageText();
  return JSON.stringify(random.pick(wrongTyped)(random.pick(valid)));
}

interface Post {
  body: string;
  contentType: string;
  status: 202 | 400 | 413;
  /** Bad messages among the body's items (a refused body counts as one bad message). */
  bad: number;
}

/** Mixed NDJSON and JSON-array batches, with the wholly refused bodies spread among them. */
function webhookPosts(): Post[] {
  const posts: Post[] = [];
  let badLeft = BAD_PER_PATH - Object.values(WHOLE_BODIES).reduce((a, b) => a + b, 0);
  let next = 0;
  while (badLeft > 0 || next < viaWebhook.length) {
    const ndjson = random.chance(0.5);
    const items: string[] = [];
    let bad = 0;
    for (let size = random.int(1, 150), bytes = 0; items.length < size && bytes < MAX_BODY / 2;) {
      const validLeft = viaWebhook.length - next;
      if (badLeft === 0 && validLeft === 0) break;
      let item: string;
      if (badLeft > 0 && (validLeft === 0 || random.chance(badLeft / (badLeft + validLeft)))) {
        item = badText(ndjson);
        bad++;
        badLeft--;
      } else item = JSON.stringify(viaWebhook[next++]);
      items.push(item);
      bytes += item.length;
    }
    const body = ndjson ? `${items.join('\n')}\n` : `[${items.join(',')}]`;
    posts.push({ body, contentType: ndjson ? 'application/x-ndjson' : 'application/json', status: 202, bad });
  }
  for (const post of refusedBodies()) posts.splice(random.int(0, posts.length), 0, post);
  return posts;
}

function refusedBodies(): Post[] {
  const refused = valid.slice(0, 200).map((e) => JSON.stringify({ ...e, sale: refusedSale }));
  const post = (body: string, contentType: string, status: 400 | 413): Post => ({ body, contentType, status, bad: 1 });
  const times = <T>(n: number, make: () => T): T[] => Array.from({ length: n }, make);
  return [
    ...times(WHOLE_BODIES.garbage, () => post(times(5, garbageText).join('\n'), 'text/plain', 400)),
    ...times(WHOLE_BODIES.truncated, () =>
      post(`[${refused.join(',')}`.slice(0, random.int(2, 20_000)), 'application/json', 400),
    ),
    ...SCALAR_BODIES.map((body) => post(body, 'application/json', 400)),
    ...times(WHOLE_BODIES.oversized, () =>
      post(`[${times(8, () => refused.join(',')).join(',')}]`, 'application/json', 413),
    ),
  ];
}

/** The feed's frames: its half of the sale with 5,000 bad frames among them, three of 1 MB. */
function feedFrames(): (string | Buffer)[] {
  const frames: (string | Buffer)[] = [];
  const oversized = 3;
  let badLeft = BAD_PER_PATH - oversized;
  for (let next = 0; badLeft > 0 || next < viaFeed.length;) {
    const validLeft = viaFeed.length - next;
    if (badLeft > 0 && (validLeft === 0 || random.chance(badLeft / (badLeft + validLeft)))) {
      const binary = random.chance(0.05);
      frames.push(binary ? Buffer.from(Array.from({ length: 32 }, () => random.int(0, 255))) : badText(true));
      badLeft--;
    } else frames.push(JSON.stringify(viaFeed[next++]));
  }
  for (let i = 0; i < oversized; i++) frames.splice(random.int(0, frames.length), 0, `~${'z'.repeat(1024 * 1024)}`);
  return frames;
}

function signedHeaders(body: string, contentType: string): Record<string, string> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = createHmac('sha256', SECRET).update(`${timestamp}.${body}`).digest('hex');
  return {
    'content-type': contentType,
    'x-lanewatch-timestamp': timestamp,
    'x-lanewatch-signature': `sha256=${signature}`,
  };
}

interface Reply {
  status: number;
  body: { accepted?: number; rejected?: { index: number; reason: string }[]; error?: string };
}

let collector: RunningCollector;
let feed: FeedServer;
let influx: InfluxStore;
const posts = webhookPosts();
const frames = feedFrames();
const webhookItemsBad = posts.filter((p) => p.status === 202).reduce((sum, p) => sum + p.bad, 0);
const replies: Reply[] = [];
let elapsedMs = 0;

beforeAll(async () => {
  const started = Date.now();
  feed = await startFeedServer(({ socket }, index) => {
    if (index === 0) for (const frame of frames) socket.send(frame, { binary: Buffer.isBuffer(frame) });
  });
  collector = await startCollector(
    config,
    [{ source: new WebsocketSource({ name: 'fuzz-feed', url: feed.url, silenceTimeoutSec: 10 }, quietLog) }],
    quietLog,
    [{ name: 'fuzz-hook', auth: { scheme: 'hmac', secret: SECRET }, normalizer: contractEvents }],
  );
  influx = await connectInflux(config.influx);
  let sent = 0;
  const poster = async () => {
    for (let i = sent++; i < posts.length; i = sent++) {
      const { body, contentType } = posts[i]!;
      const res = await fetch(`http://127.0.0.1:${collector.port}/ingest/fuzz-hook`, {
        method: 'POST',
        body,
        headers: signedHeaders(body, contentType),
      });
      replies[i] = { status: res.status, body: (await res.json()) as Reply['body'] };
    }
  };
  await Promise.all([poster(), poster(), poster(), poster()]);
  await eventually(
    () => (collector.pipeline.stats().sources['fuzz-feed']?.received === frames.length ? true : undefined),
    30_000,
  );
  await collector.pipeline.drain();
  elapsedMs = Date.now() - started;
}, 60_000);

afterAll(async () => {
  await collector?.stop();
  await feed?.close();
  await influx?.close();
  await dropStores(config);
});

describe('fuzzing the collector with 10,000 bad messages among a real sale', () => {
  it('keeps answering /health, within the time bound', async () => {
    const res = await fetch(`http://127.0.0.1:${collector.port}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok' });
    expect(elapsedMs).toBeLessThan(60_000);
  });

  it('rejects every bad webhook message: per item with a reason, or the whole body with 400/413', () => {
    expect(replies.map((r) => r.status)).toEqual(posts.map((p) => p.status));
    const rejected = replies.flatMap((r) => r.body.rejected ?? []);
    expect(rejected).toHaveLength(webhookItemsBad);
    expect(rejected.every((r) => r.reason.length > 0)).toBe(true);
    expect(replies.every((r) => r.status === 202 || (r.body.error ?? '').length > 0)).toBe(true);
    expect(webhookItemsBad + replies.filter((r) => r.status !== 202).length).toBe(BAD_PER_PATH);
    expect(replies.reduce((sum, r) => sum + (r.body.accepted ?? 0), 0)).toBe(viaWebhook.length);
  });

  it.each([
    ['fuzz-hook', viaWebhook.length, webhookItemsBad],
    ['fuzz-feed', viaFeed.length, BAD_PER_PATH],
  ])('counts every message of %s: %i good accepted, %i bad rejected with a named reason', (source, good, bad) => {
    const counters = collector.pipeline.stats().sources[source];
    expect(counters).toMatchObject({ received: good + bad, accepted: good, rejected: bad, duplicates: 0 });
    const reasons = Object.entries(counters!.rejectedBy);
    expect(reasons.every(([reason]) => reason.length > 0)).toBe(true);
    expect(reasons.reduce((sum, [, n]) => sum + n, 0)).toBe(bad);
  });

  it('read the feed over one connection: bad frames, 1 MB ones included, never broke it', () => {
    expect(feed.connections).toHaveLength(1);
  });

  it('stores every good event exactly once in InfluxDB, counted per kind, and nothing from refused bodies', async () => {
    const expected: Record<string, number> = {};
    for (const event of valid) expected[measurementOf(event.type)] = (expected[measurementOf(event.type)] ?? 0) + 1;
    const series = await influx.query(`SELECT count("id") FROM /.*/ WHERE sale = ${quoteLiteral(sale.sale)}`);
    expect(Object.fromEntries(series.map((s) => [s.name, s.values[0]?.[1]]))).toEqual(expected);
    expect(await influx.query(`SELECT count("id") FROM /.*/ WHERE sale = ${quoteLiteral(refusedSale)}`)).toEqual([]);
  });

  it('appends every good event exactly once to the Redis stream', async () => {
    const ids = (await busEvents(config.redis.url, config.redis.stream)).map((e) => e.id);
    expect(ids.sort()).toEqual(valid.map((e) => e.id).sort());
  });
});

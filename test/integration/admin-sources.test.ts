/**
 * What admins see of the collector's sources from the server (real collector, server and Redis):
 * the collector publishes each configured source's counters and newest dead letters to Redis, and
 * `GET /api/admin/sources` shows them, with a status word and `stale` once the collector stopped.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Config } from '../../config';
import { startCollector, type RunningCollector } from '../../collector/collector';
import { buildSources } from '../../collector/sources';
import { simulateSale } from '../../collector/sources/simulator';
import type { AdminSources, SourceView } from '../../server/routes/sources';
import { startServer, type RunningServer } from '../../server/server';
import { connectRedis } from '../../storage/redis';
import { sourceStatusKey, type SourceStatus } from '../../storage/source-status';
import { grantToken, withToken } from '../helpers/access';
import { relayTo, type NetworkCut } from '../helpers/network-cut';
import { dropStores, eventually, isolatedConfig, quietLog } from '../helpers/stores';

const PUBLISH_EVERY_SEC = 0.5;
const HOOK_SECRET = 'clerk-hook-secret';
const configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lanewatch-admin-sources-'));
const clerkHook = { type: 'webhook', name: 'clerk-hook', auth: { scheme: 'bearer', secret: 'env:CLERK_HOOK_SECRET' } };

/** A collector config file listing `sources`. */
function collectorFile(name: string, sources: readonly object[]): string {
  const file = path.join(configDir, name);
  fs.writeFileSync(file, JSON.stringify({ sources }));
  return file;
}

const config = isolatedConfig({
  COLLECTOR_CONFIG: collectorFile('simulator-and-hook.json', [{ type: 'simulator' }, clerkHook]),
  CLERK_HOOK_SECRET: HOOK_SECRET,
  COLLECTOR_STATUS_EVERY_SEC: String(PUBLISH_EVERY_SEC),
  SIM_SEED: '5',
  SIM_LANES: '2',
  SIM_DURATION_MIN: '10',
  SIM_SPEED: '0',
  SIM_AUCTION: 'sourceville',
});
const simulated = [...simulateSale(config.simulator).events()].length;
const publisher = { host: os.hostname(), pid: process.pid };

const attendance = {
  id: 'hook-1',
  type: 'attendance',
  ts: Date.now(),
  source: 'clerk-console',
  auction: 'sourceville',
  sale: 'hook-sale',
  lane: '1',
  online: 12,
};
/** One valid message and four malformed ones, one of them far too large to publish whole. */
const HOOK_BODY = [
  JSON.stringify(attendance),
  'this is not json',
  JSON.stringify({ ...attendance, id: 'hook-2', online: -1 }),
  JSON.stringify({ ...attendance, id: 'hook-3', type: 'bid', run: 1, amount: 10, channel: 'phone' }),
  JSON.stringify({ ...attendance, id: 'hook-4', online: 'x'.repeat(5000) }),
].join('\n');

afterAll(() => fs.rmSync(configDir, { recursive: true, force: true }));

/** Posts `body` (NDJSON) to the webhook source `clerk-hook` of the collector on `port`. */
function postToHook(port: number, body: string): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}/ingest/clerk-hook`, {
    method: 'POST',
    headers: { authorization: `Bearer ${HOOK_SECRET}`, 'content-type': 'application/x-ndjson' },
    body,
  });
}

let server: RunningServer;
let collector: RunningCollector;
let collectorStopped = false;
let base: string;
const tokens = {} as Record<'viewer' | 'manager' | 'admin', string>;

async function adminSources(): Promise<AdminSources> {
  const response = await fetch(`${base}/api/admin/sources`, withToken(tokens.admin));
  expect(response.status).toBe(200);
  return (await response.json()) as AdminSources;
}

function named(view: AdminSources, name: string): SourceView {
  const source = view.sources.find((s) => s.name === name);
  if (!source) throw new Error(`no source ${name} in ${JSON.stringify(view)}`);
  return source;
}

/** Polls the route until `ready` holds for the answer. */
function sourcesOnce(ready: (view: AdminSources) => boolean, timeoutMs = 10_000): Promise<AdminSources> {
  return eventually(async () => {
    const view = await adminSources();
    return ready(view) ? view : undefined;
  }, timeoutMs);
}

describe('GET /api/admin/sources', () => {
  beforeAll(async () => {
    server = await startServer(config, quietLog);
    base = `http://127.0.0.1:${server.port}`;
    for (const role of ['viewer', 'manager', 'admin'] as const) tokens[role] = await grantToken(config, role);
    const { feeds, webhooks } = buildSources(config.collector.sources, { simulator: config.simulator, log: quietLog });
    collector = await startCollector(config, feeds, quietLog, webhooks);
  });

  afterAll(async () => {
    if (!collectorStopped) await collector?.stop();
    await server?.stop();
    await dropStores(config);
  });

  it('shows a configured source that has received nothing yet as quiet, not stale', async () => {
    const view = await sourcesOnce((v) => v.sources.some((s) => s.name === 'clerk-hook'));
    expect(named(view, 'clerk-hook')).toMatchObject({
      kind: 'webhook',
      collector: publisher,
      counters: { received: 0, accepted: 0, duplicates: 0, gaps: 0, rejected: 0 },
      topRejections: [],
      lastMessageAt: null,
      lastAcceptedAt: null,
      deadLetters: [],
      publishEveryMs: PUBLISH_EVERY_SEC * 1000,
      stale: false,
      status: 'quiet',
    });
  });

  it('shows both sources, sorted by name, with their kind, publisher and counters', async () => {
    const posted = Date.now();
    const reply = await postToHook(collector.port, HOOK_BODY);
    expect(reply.status).toBe(202);
    expect(((await reply.json()) as { accepted: number }).accepted).toBe(1);
    await collector.finished;

    const view = await sourcesOnce(
      (v) =>
        v.sources.find((s) => s.name === 'clerk-hook')?.counters.received === 5 &&
        v.sources.find((s) => s.name === 'simulator')?.counters.received === simulated,
    );
    expect(view.sources.map((s) => [s.name, s.kind])).toEqual([
      ['clerk-hook', 'webhook'],
      ['simulator', 'simulator'],
    ]);
    expect(view.errors).toEqual([]);

    const pipeline = collector.pipeline.stats().sources;
    const simulator = named(view, 'simulator');
    expect(simulator).toMatchObject({ collector: publisher, stale: false, status: 'receiving', deadLetters: [] });
    expect(simulator.counters).toEqual({
      received: simulated,
      accepted: simulated,
      duplicates: 0,
      gaps: pipeline.simulator?.gaps,
      rejected: 0,
    });
    expect(simulator.lastAcceptedAt).toBe(pipeline.simulator?.lastAcceptedAt);

    const hook = named(view, 'clerk-hook');
    expect(hook).toMatchObject({ collector: publisher, stale: false, status: 'receiving' });
    expect(hook.counters).toEqual({ received: 5, accepted: 1, duplicates: 0, gaps: 0, rejected: 4 });
    expect(hook.topRejections).toEqual([
      { reason: 'attendance.online', count: 2 },
      { reason: 'bid.channel', count: 1 },
      { reason: 'not JSON', count: 1 },
    ]);
    expect(hook.lastMessageAt).toBeGreaterThanOrEqual(posted);
    expect(hook.lastAcceptedAt).toBeGreaterThanOrEqual(posted);
  });

  it('lists the malformed messages’ reasons in their source’s dead letters, newest first, cut short', async () => {
    const hook = named(await adminSources(), 'clerk-hook');
    expect(hook.deadLetters.map((d) => d.reason)).toEqual([
      expect.stringMatching(/^attendance\.online: /),
      'bid.channel: Invalid option: expected one of "online"|"floor"|"proxy" (got "phone")',
      'attendance.online: must be ≥ 0 (got -1)',
      expect.stringMatching(/^not JSON: line 2: /),
    ]);
    // An excerpt is the message as JSON, so the unparseable line shows quoted.
    expect(hook.deadLetters[3]?.excerpt).toBe('"this is not json"');
    expect(hook.deadLetters[0]?.excerpt).toMatch(/^\{"id":"hook-4",.{180,}…$/);
    for (const letter of hook.deadLetters) {
      expect(letter.at).toBeGreaterThan(0);
      expect(letter.reason.length).toBeLessThanOrEqual(201);
      expect(letter.excerpt.length).toBeLessThanOrEqual(201);
    }
  });

  it('skips junk in the hash and names it in errors; the other sources are still shown', async () => {
    const redis = connectRedis(config.redis.url, 'lanewatch-test-sources');
    const key = sourceStatusKey(config.redis.stream);
    try {
      await redis.hset(key, { junk: 'this is {not json', half: JSON.stringify({ name: 'half', kind: 'webhook' }) });
      const view = await adminSources();
      expect(view.sources.map((s) => s.name)).toEqual(['clerk-hook', 'simulator']);
      expect(view.errors).toHaveLength(2);
      expect(view.errors).toContain('"junk": not JSON');
      expect(view.errors.find((line) => line.startsWith('"half": '))).toMatch(/collector: .*; counters: /);
    } finally {
      await redis.hdel(key, 'junk', 'half');
      await redis.quit();
    }
  });

  it('shows a source with no message for a minute as quiet while its collector still publishes', async () => {
    const redis = connectRedis(config.redis.url, 'lanewatch-test-sources');
    const key = sourceStatusKey(config.redis.stream);
    try {
      const publishedAt = Date.now();
      const silent = { ...named(await adminSources(), 'simulator'), name: 'silent-feed', publishedAt };
      await redis.hset(key, 'silent-feed', JSON.stringify({ ...silent, lastMessageAt: publishedAt - 61_000 }));
      expect(named(await adminSources(), 'silent-feed')).toMatchObject({ stale: false, status: 'quiet' });
    } finally {
      await redis.hdel(key, 'silent-feed');
      await redis.quit();
    }
  });

  it('publishes the final figures when the collector stops, and marks its sources stale 3 periods later', async () => {
    await collector.stop();
    collectorStopped = true;
    const final = collector.pipeline.stats().sources;
    const atStop = await adminSources();
    expect(named(atStop, 'clerk-hook').counters.received).toBe(final['clerk-hook']?.received);
    expect(named(atStop, 'simulator').counters.received).toBe(final.simulator?.received);
    expect(atStop.sources.every((s) => !s.stale)).toBe(true);

    const later = await sourcesOnce((v) => v.sources.every((s) => s.stale));
    expect(later.sources.map((s) => [s.name, s.status])).toEqual([
      ['clerk-hook', 'stale'],
      ['simulator', 'stale'],
    ]);
    for (const source of later.sources) {
      expect(Date.now() - source.publishedAt).toBeGreaterThan(3 * PUBLISH_EVERY_SEC * 1000);
    }
  });

  it('answers 401 without a credential, 403 to a viewer and a manager, 200 to an admin', async () => {
    const status = async (init?: RequestInit) => (await fetch(`${base}/api/admin/sources`, init)).status;
    expect(await status()).toBe(401);
    expect(await status(withToken(tokens.viewer))).toBe(403);
    expect(await status(withToken(tokens.manager))).toBe(403);
    expect(await status(withToken(tokens.admin))).toBe(200);
  });
});

describe('publishing while Redis is unreachable', () => {
  const redisUrl = inject('redisUrl');
  const warnings: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
  let relay: NetworkCut;
  let outageConfig: Config;
  let hookCollector: RunningCollector;
  let redis: Redis;

  beforeAll(async () => {
    relay = await relayTo(Number(new URL(redisUrl).port));
    outageConfig = isolatedConfig({
      REDIS_URL: `redis://127.0.0.1:${relay.port}`,
      COLLECTOR_CONFIG: collectorFile('hook.json', [clerkHook]),
      CLERK_HOOK_SECRET: HOOK_SECRET,
      COLLECTOR_STATUS_EVERY_SEC: '0.2',
    });
    const { webhooks } = buildSources(outageConfig.collector.sources, { simulator: outageConfig.simulator, log });
    hookCollector = await startCollector(outageConfig, [], log, webhooks);
    redis = connectRedis(redisUrl, 'lanewatch-test-sources');
  });

  afterAll(async () => {
    relay?.restore();
    await hookCollector?.stop();
    await relay?.close();
    await redis?.quit();
    await dropStores({ ...outageConfig, redis: { ...outageConfig.redis, url: redisUrl } });
  });

  it('logs the failure once, keeps taking messages, and publishes again once Redis is back', async () => {
    const key = sourceStatusKey(outageConfig.redis.stream);
    const published = async () => {
      const json = await redis.hget(key, 'clerk-hook');
      return json === null ? undefined : (JSON.parse(json) as SourceStatus);
    };
    await eventually(published);

    relay.cut();
    const cutAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const reply = await postToHook(hookCollector.port, JSON.stringify(attendance));
    expect(reply.status).toBe(202);
    expect((await published())?.publishedAt).toBeLessThanOrEqual(cutAt);
    const failed = warnings.filter((line) => line.includes('publishing the sources’ status failed'));
    expect(failed).toHaveLength(1);

    relay.restore();
    const after = await eventually(async () => {
      const status = await published();
      return status?.counters.received === 1 ? status : undefined;
    }, 15_000);
    expect(after.publishedAt).toBeGreaterThan(cutAt);
    expect(after.counters.accepted).toBe(1);
  });
});

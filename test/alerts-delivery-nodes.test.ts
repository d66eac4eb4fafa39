/**
 * Several server nodes and restarts on the real Redis: every node enqueues every transition and
 * runs a dispatcher, one holds the lease and sends; a holder that dies without a word is replaced
 * once its lease expires; a restart resumes from the saved queue. In every case each message
 * reaches each channel once. Channels are webhooks to a receiver on loopback.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DeliveryDispatcher, type DispatcherOptions } from '../alerts/delivery/dispatcher';
import { DEFAULT_POLICY } from '../alerts/delivery/policy';
import { DeliveryQueue } from '../alerts/delivery/queue';
import type { Audiences } from '../alerts/notify';
import { WebhookNotifier } from '../alerts/notify/webhook';
import type { AlertTransition } from '../alerts/types';
import { connectRedis } from '../storage/redis';
import { alert, fakeClock, fire, isolatedPrefix, resolve, startReceiver, type Receiver } from './helpers/delivery';
import { eventually, isolatedConfig, quietLog } from './helpers/stores';

const redisUrl = isolatedConfig().redis.url;
const redis = connectRedis(redisUrl, 'alerts-nodes-test');
let receiver: Receiver;
beforeAll(async () => (receiver = await startReceiver()));
afterAll(async () => {
  await receiver.close();
  await redis.quit();
});

/** Real time, scaled down: groups wait 100 ms, a dead node's lease runs out after 600 ms. */
const LEASE_TTL_MS = 600;
const FAST = {
  policy: { ...DEFAULT_POLICY, groupWaitMs: 100, minIntervalMs: 0 },
  leaseTtlMs: LEASE_TTL_MS,
  pollMs: 20,
  sendTimeoutMs: 250,
  retryBaseMs: 20,
  log: quietLog,
} satisfies Omit<DispatcherOptions, 'prefix'>;

interface Node {
  redis: ReturnType<typeof connectRedis>;
  queue: DeliveryQueue;
  dispatcher: DeliveryDispatcher;
}

let space: ReturnType<typeof isolatedPrefix>;
let nodes: Node[];
beforeEach(() => {
  space = isolatedPrefix(redis, 'nodes');
  nodes = [];
  receiver.received.length = 0;
  receiver.answer = () => ({ status: 200 });
});
afterEach(async () => {
  for (const node of nodes) {
    await node.dispatcher.stop();
    await node.redis.quit();
  }
  await space.clean();
});

function webhooks(...names: string[]): Audiences {
  const primary = names.map((name) => new WebhookNotifier({ name, url: `${receiver.url}/${name}`, format: 'json' }));
  return { primary, escalation: [] };
}

/** A server node: its own Redis connection, queue and dispatcher, on the test's prefix. */
function node(options: Partial<DispatcherOptions> = {}, audiences = webhooks('ops')): Node {
  const connection = connectRedis(redisUrl, `alerts-node-${nodes.length}`);
  const created = {
    redis: connection,
    queue: new DeliveryQueue(connection, space.prefix),
    dispatcher: new DeliveryDispatcher(connection, audiences, { ...FAST, prefix: space.prefix, ...options }),
  };
  nodes.push(created);
  return created;
}

/** Every node's engine makes the same transitions, so every node enqueues them. */
async function everyNodeEnqueues(...transitions: AlertTransition[]): Promise<void> {
  await Promise.all(nodes.map(async (n) => Promise.all(transitions.map((t) => n.queue.enqueue(t)))));
}

/** `path lanes` of each request, e.g. `/ops firing:1 firing:2`. */
function deliveries(): string[] {
  return receiver.received.map((r) => {
    const body = JSON.parse(r.body.toString()) as { items: { reason: string; alert: { lane: string } }[] };
    return `${r.path} ${body.items.map((item) => `${item.reason}:${item.alert.lane}`).join(' ')}`;
  });
}

/** `sale reason:lane` of every item of every request. */
function itemsDelivered(): string[] {
  return receiver.received.flatMap((r) => {
    const body = JSON.parse(r.body.toString()) as {
      sale: string;
      items: { reason: string; alert: { lane: string } }[];
    };
    return body.items.map((item) => `${body.sale} ${item.reason}:${item.alert.lane}`);
  });
}

/** Waits until `count` requests arrived, then a while longer to catch any extra. */
async function receivedExactly(count: number): Promise<string[]> {
  await eventually(() => (receiver.received.length >= count ? true : undefined));
  await new Promise((done) => setTimeout(done, 300));
  return deliveries();
}

describe('two nodes on one Redis', () => {
  it('stores a transition enqueued by both nodes once', async () => {
    const [a, b] = [node(), node()];
    const results = await Promise.all([a.queue.enqueue(fire(alert('1'))), b.queue.enqueue(fire(alert('1')))]);
    expect(results.sort()).toEqual([false, true]);
    expect(await redis.xlen(`${space.prefix}:inbox`)).toBe(1);
  });

  it('sends each notification once, from one node', async () => {
    const [a, b] = [node(), node()];
    a.dispatcher.start();
    b.dispatcher.start();
    await everyNodeEnqueues(fire(alert('1')), fire(alert('2')), fire(alert('1', { sale: 'sale-43' })));
    // How they are grouped depends on when a pass runs; each is delivered once either way.
    await eventually(() => (itemsDelivered().length >= 3 ? true : undefined));
    await new Promise((done) => setTimeout(done, 300));
    expect(itemsDelivered().sort()).toEqual(['sale-42 firing:1', 'sale-42 firing:2', 'sale-43 firing:1']);
    const requests = receiver.received.length;
    await everyNodeEnqueues(resolve(alert('1')));
    expect(await receivedExactly(requests + 1)).toHaveLength(requests + 1);
    expect(deliveries().at(-1)).toBe('/ops resolved:1');
    expect([a, b].filter((n) => n.dispatcher.leading)).toHaveLength(1);
  });

  it('after the holder dies without releasing the lease, the other sends what was pending once it expires', async () => {
    const [a, b] = [node(), node()];
    a.dispatcher.start();
    await eventually(() => (a.dispatcher.leading ? true : undefined));
    b.dispatcher.start();
    await everyNodeEnqueues(fire(alert('1')));
    expect(await receivedExactly(1)).toEqual(['/ops firing:1']);

    // Queued, not yet due (the 100 ms group wait) when the holder dies.
    await everyNodeEnqueues(fire(alert('2')), resolve(alert('1')));
    const died = performance.now();
    await a.dispatcher.stop({ release: false });
    expect(receiver.received).toHaveLength(1);

    expect(await receivedExactly(2)).toEqual(['/ops firing:1', '/ops firing:2 resolved:1']);
    expect(b.dispatcher.leading).toBe(true);
    // Not at once (a poll, 20 ms) but when the dead node's lease ran out: 600 ms after its last
    // renewal, which was at most one pass before it died (bound loosely for a loaded machine).
    expect((receiver.received[1]?.at ?? 0) - died).toBeGreaterThan(LEASE_TTL_MS / 2);
  });

  it('a message half delivered when its holder dies goes only to the channel that had not got it', async () => {
    const audiences = () => webhooks('ops', 'chat');
    const a = node({}, audiences());
    const b = node({}, audiences());
    let chatUp = false;
    receiver.answer = (_i, path) => ({ status: path === '/chat' && !chatUp ? 503 : 200 });
    a.dispatcher.start();
    await eventually(() => (a.dispatcher.leading ? true : undefined));
    b.dispatcher.start();
    const to = (path: string) => receiver.received.filter((r) => r.path === path);
    await everyNodeEnqueues(fire(alert('1')));
    // ops took it; chat failed at least twice, so the holder is retrying it.
    await eventually(() => (to('/chat').length >= 2 ? true : undefined));
    await a.dispatcher.stop({ release: false });
    expect(to('/ops').map((r) => r.status)).toEqual([200]);
    chatUp = true;

    await eventually(() => (to('/chat').some((r) => r.status === 200) ? true : undefined));
    await new Promise((done) => setTimeout(done, 300));
    expect(b.dispatcher.leading).toBe(true);
    expect(to('/ops')).toHaveLength(1);
    expect(to('/chat').filter((r) => r.status === 200)).toHaveLength(1);
    expect(to('/chat').at(-1)?.status).toBe(200);
    expect(new Set(receiver.received.map((r) => r.headers['idempotency-key'])).size).toBe(1);
  });
});

describe('restart', () => {
  it('a dispatcher stopped between enqueue and send sends once when started again', async () => {
    const clock = fakeClock();
    const before = node({ now: clock.now, policy: DEFAULT_POLICY });
    await before.queue.enqueue(fire(alert('2')));
    expect(await before.dispatcher.runOnce()).toBe(true); // sent at once
    await before.queue.enqueue(fire(alert('1')));
    expect(await before.dispatcher.runOnce()).toBe(true); // queued: the sale's next message is due in 5 s
    await before.dispatcher.stop();
    expect(deliveries()).toEqual(['/ops firing:2']);

    clock.advance(5000);
    const after = node({ now: clock.now, policy: DEFAULT_POLICY });
    expect(await after.dispatcher.runOnce()).toBe(true);
    expect(await after.dispatcher.runOnce()).toBe(true);
    clock.advance(60_000);
    expect(await after.dispatcher.runOnce()).toBe(true);
    expect(deliveries()).toEqual(['/ops firing:2', '/ops firing:1']);
  });

  it('a crash neither loses a pending resolve nor sends it twice', async () => {
    const clock = fakeClock();
    const before = node({ now: clock.now, policy: DEFAULT_POLICY });
    await before.queue.enqueue(fire(alert('1')));
    await before.dispatcher.runOnce();
    clock.advance(120_000);
    await before.queue.enqueue(fire(alert('2')));
    await before.dispatcher.runOnce();
    await before.queue.enqueue(resolve(alert('1')));
    await before.dispatcher.runOnce(); // the resolve is queued: the sale's next message is due in 5 s
    await before.dispatcher.stop({ release: false }); // dies holding the lease
    expect(deliveries()).toEqual(['/ops firing:1', '/ops firing:2']);

    clock.advance(5000);
    const after = node({ now: clock.now, policy: DEFAULT_POLICY });
    expect(await after.dispatcher.runOnce()).toBe(false); // the dead node's lease still stands
    await eventually(async () => ((await after.dispatcher.runOnce()) ? true : undefined));
    await after.dispatcher.runOnce();
    expect(deliveries()).toEqual(['/ops firing:1', '/ops firing:2', '/ops resolved:1']);
  });

  it('a message whose send failed before the restart is retried after it, once', async () => {
    const clock = fakeClock();
    receiver.answer = (i) => ({ status: i === 0 ? 503 : 200 });
    const before = node({ now: clock.now, policy: DEFAULT_POLICY });
    await before.queue.enqueue(fire(alert('1')));
    await before.dispatcher.runOnce(); // 503: to be retried
    await before.dispatcher.stop();

    const after = node({ now: clock.now, policy: DEFAULT_POLICY });
    for (let i = 0; i < 5; i++) {
      clock.advance(1000);
      await after.dispatcher.runOnce();
    }
    expect(receiver.received.map((r) => r.headers['idempotency-key'])).toEqual([
      receiver.received[0]?.headers['idempotency-key'],
      receiver.received[0]?.headers['idempotency-key'],
    ]);
    expect(after.dispatcher.stats()).toEqual({ ops: { sent: 1, rejected: 0, expired: 0, retried: 0 } });
  });
});

describe('what a node queues itself', () => {
  it('goes out as soon as the node wakes its dispatcher, not at its next poll', async () => {
    const a = node({ pollMs: 60_000 });
    a.dispatcher.start();
    await eventually(() => (a.dispatcher.leading ? true : undefined));

    await a.queue.enqueue(fire(alert('1')));
    a.dispatcher.wake();
    await eventually(() => (receiver.received.length === 1 ? true : undefined), 2_000);
    expect(deliveries()).toEqual(['/ops firing:1']);

    // Without the wake, the same news (of another sale, so not held for its group) waits for the
    // minute-long poll.
    await a.queue.enqueue(fire(alert('1', { sale: 'sale-43' })));
    await new Promise((done) => setTimeout(done, 1_000));
    expect(receiver.received).toHaveLength(1);
  });
});

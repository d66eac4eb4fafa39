/**
 * Webhooks against a receiver on loopback, through the real queue and dispatcher on the real
 * Redis with a fake clock: retries with backoff until the receiver takes the message, exactly
 * once; a refusal is final; the Slack and JSON bodies.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DeliveryDispatcher } from '../alerts/delivery/dispatcher';
import { DEFAULT_POLICY } from '../alerts/delivery/policy';
import { DeliveryQueue } from '../alerts/delivery/queue';
import { WebhookNotifier } from '../alerts/notify/webhook';
import { connectRedis } from '../storage/redis';
import { alert, fakeClock, fire, isolatedPrefix, resolve, startReceiver, type Receiver } from './helpers/delivery';
import { isolatedConfig, quietLog } from './helpers/stores';

const redis = connectRedis(isolatedConfig().redis.url, 'alerts-webhook-test');
let receiver: Receiver;
beforeAll(async () => (receiver = await startReceiver()));
afterAll(async () => {
  await receiver.close();
  await redis.quit();
});

let space: ReturnType<typeof isolatedPrefix>;
let clock: ReturnType<typeof fakeClock>;
let queue: DeliveryQueue;
let dispatcher: DeliveryDispatcher;
/** Clock seconds (after T0) at which each request arrived. */
let arrivals: number[];
/** The receiver's answers, in order; 200 after the last. */
let script: ReturnType<Receiver['answer']>[];

function startDelivery(format: 'slack' | 'json'): void {
  const webhook = new WebhookNotifier({ name: 'ops', url: `${receiver.url}/hooks/ops`, format });
  dispatcher = new DeliveryDispatcher(
    redis,
    { primary: [webhook], escalation: [] },
    { policy: DEFAULT_POLICY, prefix: space.prefix, now: clock.now, log: quietLog },
  );
}

beforeEach(() => {
  space = isolatedPrefix(redis, 'webhook');
  clock = fakeClock();
  queue = new DeliveryQueue(redis, space.prefix);
  receiver.received.length = 0;
  arrivals = [];
  const answer = (index: number) => {
    arrivals.push((clock.now() - clock.start) / 1000);
    return script[index] ?? { status: 200 };
  };
  receiver.answer = answer;
  script = [];
  startDelivery('json');
});
afterEach(async () => {
  await dispatcher.stop();
  await space.clean();
});

/** One dispatcher pass a second from `fromSec` to `toSec`. */
async function runFromTo(fromSec: number, toSec: number): Promise<void> {
  for (let s = fromSec; s <= toSec; s++) {
    clock.at(s * 1000);
    await dispatcher.runOnce();
  }
}

describe('webhook delivery', () => {
  it('retries a receiver that fails 3 times (reset, 429, 503) and delivers exactly once', async () => {
    script = ['reset', { status: 429, headers: { 'retry-after': '3' } }, { status: 503 }];
    await queue.enqueue(fire(alert('4')));
    await runFromTo(0, 120);
    // Sent at once; reset → 1 s backoff; 429 → its Retry-After of 3 s; 503 → 4 s.
    expect(arrivals).toEqual([0, 1, 4, 8]);
    const ids = receiver.received.map((r) => r.headers['idempotency-key']);
    expect(new Set(ids).size).toBe(1);
    expect(dispatcher.stats()).toEqual({ ops: { sent: 1, rejected: 0, expired: 0, retried: 3 } });
  });

  it('does not retry a refusal (4xx other than 408 and 429)', async () => {
    script = [{ status: 400 }];
    await queue.enqueue(fire(alert('4')));
    await runFromTo(0, 120);
    expect(arrivals).toEqual([0]);
    expect(dispatcher.stats()).toEqual({ ops: { sent: 0, rejected: 1, expired: 0, retried: 0 } });
  });

  it('gives up on a receiver still failing 10 minutes after the message was composed', async () => {
    script = Array.from({ length: 100 }, () => ({ status: 502 }));
    await queue.enqueue(fire(alert('4')));
    await runFromTo(0, 599);
    // 1, 2, 4 … 32 s, then every 60 s; the one after 543 s would be at 603 s, past 0 s + 10 min.
    // (At 600 s the first reminder is a message of its own.)
    expect(arrivals).toEqual([0, 1, 3, 7, 15, 31, 63, 123, 183, 243, 303, 363, 423, 483, 543]);
    expect(dispatcher.stats()).toEqual({ ops: { sent: 0, rejected: 0, expired: 1, retried: 14 } });
  });

  it('posts the generic JSON format with an Idempotency-Key', async () => {
    const fired = fire(alert('4'));
    await queue.enqueue(fired);
    await runFromTo(0, 5);
    const [request] = receiver.received;
    expect(request?.path).toBe('/hooks/ops');
    expect(request?.headers['content-type']).toBe('application/json');
    const body = JSON.parse(request?.body.toString() ?? '') as Record<string, unknown>;
    expect(request?.headers['idempotency-key']).toBe(body.id);
    expect(body).toEqual({
      id: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      auction: 'dallas',
      sale: 'sale-42',
      audience: 'primary',
      createdAt: clock.start,
      severity: 'warning',
      items: [{ idempotencyKey: 'attendance.decline|dallas|sale-42|4#2', reason: 'firing', alert: fired.alert }],
      title: 'Firing · attendance.decline · lane 4',
      text: 'Firing: Lane 4: online bidders down 48 % (31 → 16)',
    });
  });

  it('posts the Slack format: fallback text and blocks, with <, > and & escaped', async () => {
    startDelivery('slack');
    await queue.enqueue(fire(alert('4', { message: 'Lane 4: bidders <10 & falling' })));
    await queue.enqueue(fire(alert('5', { severity: 'critical' })));
    await runFromTo(0, 5);
    expect(receiver.received).toHaveLength(1);
    expect(JSON.parse(receiver.received[0]?.body.toString() ?? '')).toEqual({
      text:
        'Sale sale-42 · 2 alerts\n' +
        'Firing: Lane 4: bidders &lt;10 &amp; falling\n' +
        'Firing: Lane 5: online bidders down 48 % (31 → 16)',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'Sale sale-42 · 2 alerts' } },
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: 'Firing: Lane 4: bidders &lt;10 &amp; falling\nFiring: Lane 5: online bidders down 48 % (31 → 16)',
          },
        },
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'critical · dallas · sale sale-42' }] },
      ],
    });
  });

  it('sends firing and resolved as two messages with different idempotency keys', async () => {
    await queue.enqueue(fire(alert('4')));
    await runFromTo(0, 100);
    await queue.enqueue(resolve(alert('4')));
    await runFromTo(101, 200);
    expect(arrivals).toEqual([0, 101]);
    const [first, second] = receiver.received.map(
      (r) => JSON.parse(r.body.toString()) as { items: { reason: string }[] },
    );
    expect([first?.items[0]?.reason, second?.items[0]?.reason]).toEqual(['firing', 'resolved']);
    expect(receiver.received[0]?.headers['idempotency-key']).not.toBe(receiver.received[1]?.headers['idempotency-key']);
  });
});

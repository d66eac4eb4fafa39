/**
 * The delivery policy (METRICS.md §Alerts, Delivery) through the real queue and dispatcher on the
 * real Redis, with a fake clock: grouping per sale, reminders, the once-a-minute limit, escalation
 * and acknowledgement. Channels here only record what they are given.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeliveryDispatcher } from '../alerts/delivery/dispatcher';
import { DEFAULT_POLICY, type DeliveryPolicy } from '../alerts/delivery/policy';
import { DeliveryQueue } from '../alerts/delivery/queue';
import type { AlertTransition } from '../alerts/types';
import { connectRedis } from '../storage/redis';
import { RecordingNotifier, alert, fakeClock, fire, isolatedPrefix, resolve, transition } from './helpers/delivery';
import { isolatedConfig, quietLog } from './helpers/stores';

const redis = connectRedis(isolatedConfig().redis.url, 'alerts-delivery-test');
afterAll(() => redis.quit());

const SEC = 1000;
const MIN = 60 * SEC;

let space: ReturnType<typeof isolatedPrefix>;
let clock: ReturnType<typeof fakeClock>;
let queue: DeliveryQueue;
let phones: RecordingNotifier;
let pager: RecordingNotifier;
let dispatcher: DeliveryDispatcher;

function startDelivery(policy: Partial<DeliveryPolicy> = {}): void {
  dispatcher = new DeliveryDispatcher(
    redis,
    { primary: [phones], escalation: [pager] },
    { policy: { ...DEFAULT_POLICY, ...policy }, prefix: space.prefix, now: clock.now, log: quietLog },
  );
}

beforeEach(() => {
  space = isolatedPrefix(redis, 'delivery');
  clock = fakeClock();
  queue = new DeliveryQueue(redis, space.prefix);
  phones = new RecordingNotifier('phones');
  pager = new RecordingNotifier('pager');
  startDelivery();
});
afterEach(async () => {
  await dispatcher.stop();
  await space.clean();
});

/** At `seconds` after T0: enqueue the transitions, then one dispatcher pass. */
async function at(seconds: number, ...transitions: AlertTransition[]): Promise<void> {
  clock.at(seconds * SEC);
  for (const t of transitions) await queue.enqueue(t);
  expect(await dispatcher.runOnce()).toBe(true);
}

/** One pass every `stepSec` from `fromSec` to `toSec`, inclusive. */
async function runFromTo(fromSec: number, toSec: number, stepSec = 5): Promise<void> {
  for (let s = fromSec; s <= toSec; s += stepSec) await at(s);
}

describe('grouping per sale', () => {
  it('sends the first news of a sale at once, and what follows within 5 s as one message when they are over', async () => {
    await at(0, fire(alert('1')));
    expect(phones.log).toEqual(['0: firing:1']);
    await at(2, fire(alert('2')));
    await at(4, fire(alert('3')));
    await at(4.999);
    expect(phones.log).toEqual(['0: firing:1']);
    await at(5);
    expect(phones.log).toEqual(['0: firing:1', '5: firing:2 firing:3']);
    expect(phones.sent[1]?.items.map((item) => item.idempotencyKey)).toEqual([
      'attendance.decline|dallas|sale-42|2#2',
      'attendance.decline|dallas|sale-42|3#2',
    ]);
  });

  it('sends lanes that fire in the same pass as one message', async () => {
    await at(0, fire(alert('1')), fire(alert('2')), fire(alert('3')));
    expect(phones.log).toEqual(['0: firing:1 firing:2 firing:3']);
  });

  it('sends at once again once the sale has been quiet for 5 s, and keeps sales apart', async () => {
    await at(0, fire(alert('1')), fire(alert('1', { sale: 'sale-43' })));
    await runFromTo(1, 5, 1);
    await at(6, fire(alert('2')));
    await runFromTo(7, 12, 1);
    expect(phones.log).toEqual(['0: firing:1', '0: firing:1', '6: firing:2']);
    expect(phones.sent.map((n) => n.sale)).toEqual(['sale-42', 'sale-43', 'sale-42']);
  });

  it('marks a message critical when any alert in it is', async () => {
    const saleDecline = alert('1', { scope: 'sale', severity: 'critical' });
    await at(0, fire(alert('2')), fire(saleDecline));
    expect(phones.sent.map((n) => n.severity)).toEqual(['critical']);
  });

  it('sends nothing for a firing that resolves before its message went out', async () => {
    await at(0, fire(alert('3')));
    await at(1, fire(alert('1')), fire(alert('2')));
    await at(3, resolve(alert('1')));
    await runFromTo(5, 120);
    expect(phones.log).toEqual(['0: firing:3', '5: firing:2']);
  });
});

describe('reminders', () => {
  it('re-sends every 10 min while nobody acknowledges, 3 times at most', async () => {
    await at(0, fire(alert('1')));
    await runFromTo(5, 90 * 60, 30);
    expect(phones.log).toEqual(['0: firing:1', '605: reminder:1', '1205: reminder:1', '1805: reminder:1']);
    expect(phones.sent.map((n) => n.items[0]?.reminder)).toEqual([undefined, 1, 2, 3]);
  });

  it('stops re-sending once the alert is acknowledged', async () => {
    const fired = fire(alert('1'));
    await at(0, fired);
    await runFromTo(5, 12 * 60, 30);
    await queue.acknowledge(fired.alert);
    await runFromTo(12 * 60, 90 * 60, 30);
    expect(phones.log).toEqual(['0: firing:1', '605: reminder:1']);
  });

  it('stops re-sending when the alert resolves, and says so once', async () => {
    await at(0, fire(alert('1')));
    await runFromTo(5, 15 * 60, 30);
    await at(15 * 60, resolve(alert('1')));
    await runFromTo(15 * 60 + 5, 90 * 60, 30);
    expect(phones.log).toEqual(['0: firing:1', '605: reminder:1', '900: resolved:1']);
  });
});

describe('never more than once a minute per key', () => {
  it('holds a key back until a minute after its last message, without holding back the rest of its group', async () => {
    await at(0, fire(alert('1')));
    await runFromTo(1, 19, 1);
    await at(20, resolve(alert('1')));
    await at(21, fire(alert('2')));
    await runFromTo(22, 69, 1);
    await at(70, fire(alert('1'), 6));
    await runFromTo(71, 200, 1);
    expect(phones.log).toEqual(['0: firing:1', '21: firing:2', '60: resolved:1', '120: firing:1']);
  });
});

describe('escalation', () => {
  beforeEach(() => startDelivery({ escalateAfterMs: 15 * MIN }));

  it('tells the second channel once when nobody acknowledged within 15 min, and later the resolve', async () => {
    await at(0, fire(alert('1')));
    await runFromTo(5, 40 * 60, 30);
    expect(pager.log).toEqual(['905: escalation:1']);
    await at(40 * 60, resolve(alert('1')));
    await runFromTo(40 * 60 + 5, 50 * 60, 30);
    expect(pager.log).toEqual(['905: escalation:1', '2400: resolved:1']);
    expect(phones.log).toEqual([
      '0: firing:1',
      '605: reminder:1',
      '1205: reminder:1',
      '1805: reminder:1',
      '2400: resolved:1',
    ]);
  });

  it('does not escalate what was acknowledged in time', async () => {
    const fired = fire(alert('1'));
    await at(0, fired);
    await runFromTo(5, 14 * 60, 30);
    await queue.acknowledge(fired.alert);
    await runFromTo(14 * 60, 60 * 60, 30);
    await at(60 * 60, resolve(alert('1')));
    await runFromTo(60 * 60 + 5, 62 * 60, 30);
    expect(pager.log).toEqual([]);
    expect(phones.log).toEqual(['0: firing:1', '605: reminder:1', '3600: resolved:1']);
  });

  it('groups the escalations of one sale', async () => {
    await at(0, fire(alert('1')), fire(alert('2')));
    await runFromTo(5, 20 * 60, 30);
    expect(pager.log).toEqual(['905: escalation:1 escalation:2']);
  });
});

describe('what is queued', () => {
  it('skips transitions that phones never hear about', async () => {
    const a = alert('1');
    expect(await queue.enqueue(transition(a, 'warmup', 'ok', 1))).toBe(false);
    expect(await queue.enqueue(transition(a, 'ok', 'pending', 2))).toBe(false);
    expect(await queue.enqueue(transition(a, 'pending', 'firing', 3))).toBe(true);
    expect(await redis.xlen(`${space.prefix}:inbox`)).toBe(1);
  });

  it('does not re-announce a firing alert that was recovering and fires again', async () => {
    const a = alert('1');
    await at(0, fire(a, 2));
    await at(5);
    await at(30, transition(a, 'firing', 'recovering', 3));
    await at(40, transition(a, 'recovering', 'firing', 4));
    await runFromTo(40, 120);
    expect(phones.log).toEqual(['0: firing:1']);
  });

  it('empties the inbox it has applied', async () => {
    await queue.enqueue(fire(alert('1')));
    await queue.enqueue(fire(alert('2')));
    expect(await redis.xlen(`${space.prefix}:inbox`)).toBe(2);
    await at(0);
    expect(await redis.xlen(`${space.prefix}:inbox`)).toBe(0);
  });
});

/**
 * The producers' side of the durable delivery queue. Every server node runs the alert engine and
 * calls `enqueue` with each transition it makes; the dispatcher of whichever node holds the lease
 * reads the inbox. The same transition from two nodes (or a retried call) is stored once: a marker
 * per idempotency key (alert key + transition number) and the append are one Lua step.
 */
import type { Redis } from 'ioredis';
import type { Alert, AlertTransition } from '../types';
import { idempotencyKey, mattersForDelivery, type DeliveryInput } from './policy';

export const DEFAULT_DELIVERY_PREFIX = 'lanewatch:delivery';

/** Every Redis key delivery uses, under one prefix. */
export function deliveryKeys(prefix: string) {
  return {
    /** Stream of DeliveryInput JSON, field `i`, read by the lease holder. */
    inbox: `${prefix}:inbox`,
    /** Marker per idempotency key: this input is already in the inbox. */
    seen: (id: string) => `${prefix}:seen:${id}`,
    /** Which node sends: its token, with an expiry the holder keeps renewing. */
    lease: `${prefix}:lease`,
    /** The dispatcher's state: inbox position, groups, reminders, messages not yet delivered. */
    state: `${prefix}:state`,
    /** Per message: `channel \n recipient` → outcome, so no recipient gets a message twice. */
    delivered: (notificationId: string) => `${prefix}:delivered:${notificationId}`,
  };
}

/**
 * KEYS: marker, inbox. ARGV: marker TTL (s), inbox cap, JSON. Returns 1 when appended, 0 for a repeat.
 */
const ENQUEUE_ONCE = `
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'i', ARGV[3])
return 1
`;

/** Far longer than two nodes (or a retry) can be apart with the same transition. */
const MARKER_TTL_SEC = 24 * 3600;
/** The inbox is drained every half second while a dispatcher runs; this only bounds it when none does. */
const INBOX_CAP = 100_000;

type EnqueueOnce = {
  lanewatchEnqueueOnce(marker: string, inbox: string, ...args: (string | number)[]): Promise<number>;
};

export class DeliveryQueue {
  private readonly keys: ReturnType<typeof deliveryKeys>;
  // One node's inputs reach the inbox in the order they were made, so callers need not await.
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly redis: Redis,
    prefix = DEFAULT_DELIVERY_PREFIX,
  ) {
    this.keys = deliveryKeys(prefix);
    redis.defineCommand('lanewatchEnqueueOnce', { numberOfKeys: 2, lua: ENQUEUE_ONCE });
  }

  /**
   * Called by every node for every transition its engine makes. Resolves true when this call
   * stored it, false when it was a repeat or does not concern phones and webhooks; rejects when
   * Redis is unreachable (the caller may retry: a repeat is harmless).
   */
  enqueue(transition: AlertTransition): Promise<boolean> {
    if (!mattersForDelivery(transition)) return Promise.resolve(false);
    return this.append(idempotencyKey(transition.alert), { type: 'transition', transition });
  }

  /** Called when someone acknowledges a firing alert: its reminders and escalation stop. */
  acknowledge(alert: Pick<Alert, 'key' | 'transition'>): Promise<boolean> {
    const input: DeliveryInput = { type: 'acknowledge', key: alert.key, transition: alert.transition };
    return this.append(`${idempotencyKey(alert)}:ack`, input);
  }

  private append(id: string, input: DeliveryInput): Promise<boolean> {
    const appended = this.tail.then(() =>
      (this.redis as unknown as EnqueueOnce).lanewatchEnqueueOnce(
        this.keys.seen(id),
        this.keys.inbox,
        MARKER_TTL_SEC,
        INBOX_CAP,
        JSON.stringify(input),
      ),
    );
    this.tail = appended.catch(() => {});
    return appended.then((stored) => stored === 1);
  }
}

/**
 * Web Push state in Redis: the server's VAPID key pair and the phones subscribed to alerts.
 *
 * Both live in Redis rather than in a file under the data dir: every server node must sign with the
 * same key (a phone's subscription is bound to the public key it subscribed with) and see the same
 * subscriptions, and the two must live and die together: a phone subscribed under a key that is no
 * longer there can never be reached, so a Redis that lost the subscriptions may as well lose the key.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import webpush from 'web-push';
import { z } from 'zod';

export const DEFAULT_PUSH_PREFIX = 'lanewatch:push';

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

/** What the browser's `PushSubscription.toJSON()` gives, as stored. */
export interface StoredSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
  subscribedAt: number;
}

const base64url = (bytes: number, what: string) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_-]+={0,2}$/, `must be URL-safe base64`)
    .refine((value) => Buffer.from(value, 'base64url').length === bytes, `must be ${bytes} bytes (${what})`);

const subscriptionSchema = z.object({
  // Browsers only ever hand out https endpoints; http is allowed for a push service on loopback.
  endpoint: z
    .url({ protocol: /^https?$/ })
    .refine((url) => url.startsWith('https:') || isLoopback(url), 'must be an https URL'),
  expirationTime: z.number().nullable().optional(),
  keys: z.object({
    p256dh: base64url(65, 'an uncompressed P-256 public key'),
    auth: base64url(16, 'the auth secret'),
  }),
});

export class SubscriptionError extends Error {
  override name = 'SubscriptionError';

  constructor(readonly reasons: string[]) {
    super(`invalid push subscription — ${reasons.join('; ')}`);
  }
}

export class PushStore {
  private vapid: Promise<VapidKeys> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly prefix = DEFAULT_PUSH_PREFIX,
    private readonly now: () => number = Date.now,
  ) {}

  private get vapidKey(): string {
    return `${this.prefix}:vapid`;
  }

  private get subscriptionsKey(): string {
    return `${this.prefix}:subscriptions`;
  }

  /**
   * The key pair every node signs with, made on first use. Two nodes starting at once both make
   * one, but only the first SET NX lands and both then read the one that did.
   */
  vapidKeys(): Promise<VapidKeys> {
    this.vapid ??= (async () => {
      const made = webpush.generateVAPIDKeys();
      await this.redis.set(this.vapidKey, JSON.stringify(made), 'NX');
      const stored = await this.redis.get(this.vapidKey);
      if (stored === null) throw new Error(`${this.vapidKey} vanished right after it was written`);
      return JSON.parse(stored) as VapidKeys;
    })().catch((error: unknown) => {
      this.vapid = undefined; // Redis was down: try again next time
      throw error;
    });
    return this.vapid;
  }

  /** Stores a subscription (a repeat replaces the keys); throws SubscriptionError for a malformed one. */
  async subscribe(body: unknown): Promise<{ id: string; created: boolean }> {
    const parsed = subscriptionSchema.safeParse(body);
    if (!parsed.success)
      throw new SubscriptionError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
    const { endpoint, keys } = parsed.data;
    const id = subscriptionId(endpoint);
    const stored: StoredSubscription = { endpoint, keys, subscribedAt: this.now() };
    const created = await this.redis.hset(this.subscriptionsKey, id, JSON.stringify(stored));
    return { id, created: created === 1 };
  }

  /** Removes the subscription for `endpoint`; false when there was none. */
  async unsubscribe(endpoint: string): Promise<boolean> {
    return (await this.redis.hdel(this.subscriptionsKey, subscriptionId(endpoint))) === 1;
  }

  async ids(): Promise<string[]> {
    return this.redis.hkeys(this.subscriptionsKey);
  }

  async get(id: string): Promise<StoredSubscription | undefined> {
    const stored = await this.redis.hget(this.subscriptionsKey, id);
    return stored === null ? undefined : (JSON.parse(stored) as StoredSubscription);
  }
}

/** A short stable id for an endpoint (endpoints are long URLs with a token in them). */
export function subscriptionId(endpoint: string): string {
  return createHash('sha256').update(endpoint).digest('base64url').slice(0, 22);
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '[::1]' || host.startsWith('127.');
}

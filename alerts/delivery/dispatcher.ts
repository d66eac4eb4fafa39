/**
 * Sends what the delivery policy says, from the one node holding the delivery lease.
 *
 * Every node runs a dispatcher; each pass, a dispatcher claims (or renews) the lease and, only if
 * it holds it: reads the inbox on from its saved position → applies each input to the policy →
 * takes the messages that fell due into its outbox → saves all of it in one fenced write → sends
 * each outbox message to every recipient of its audience's channels that has no delivery record
 * yet, recording each outcome per (message, channel, recipient) → drops finished messages.
 *
 * So a restart or a takeover resumes from the saved state: nothing queued is lost, and a channel
 * that already got a message is not sent it again. The one window left is a crash between a
 * receiver's 2xx and recording it; webhooks get `Idempotency-Key` and Web Push a `Topic` for that.
 * Retries (network, 429, 5xx) back off exponentially, honour Retry-After, and give up once the
 * channel's `deliverWithinMs` has passed since the message was composed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Audiences } from '../notify';
import { DeliveryError, type AlertNotification, type Notifier } from '../notify/notifier';
import { Lease } from './lease';
import { apply, emptyState, takeDue, type DeliveryInput, type DeliveryPolicy, type DeliveryState } from './policy';
import { DEFAULT_DELIVERY_PREFIX, deliveryKeys } from './queue';

export interface DispatcherOptions {
  policy: DeliveryPolicy;
  log: Logger;
  prefix?: string;
  /** The clock groups, reminders, escalation and retries run on (ms); tests pass a fake one. */
  now?: () => number;
  /**
   * How long the lease outlives its holder's last renewal (real time): how long a crashed node's
   * work waits for another node to take it over.
   */
  leaseTtlMs?: number;
  /**
   * How often a dispatcher looks at the inbox and the clock (real time). What this node queues
   * itself does not wait for it (`wake`).
   */
  pollMs?: number;
  /** Longest one attempt at one recipient may take. Must be well under `leaseTtlMs`. */
  sendTimeoutMs?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
}

export interface ChannelCounters {
  sent: number;
  /** Refused for good (4xx, subscription gone): dropped. */
  rejected: number;
  /** Still failing when the message was no longer worth delivering: dropped. */
  expired: number;
  /** Attempts that failed and will be tried again. */
  retried: number;
}

interface Saved {
  /** Last inbox entry applied. */
  position: string;
  planner: DeliveryState;
  /** Composed messages not yet delivered everywhere. */
  outbox: AlertNotification[];
}

const INBOX_BATCH = 500;
/** Delivery records outlive their message's retries by far, then go. */
const RECORD_TTL_SEC = 24 * 3600;

export class DeliveryDispatcher {
  private readonly keys: ReturnType<typeof deliveryKeys>;
  private readonly lease: Lease;
  private readonly now: () => number;
  private readonly pollMs: number;
  private readonly sendTimeoutMs: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly log: Logger;
  /** Present while this node holds the lease. */
  private saved: Saved | undefined;
  /** Backoff per (message, channel, recipient); a new holder starts afresh. */
  private readonly retries = new Map<string, { attempts: number; at: number }>();
  private readonly counters = new Map<string, ChannelCounters>();
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;
  private renewing: NodeJS.Timeout | undefined;
  private passes: Promise<unknown> = Promise.resolve();
  /** Set by `wake`: the loop's next pass starts without waiting for the poll. */
  private woken = false;
  private napping: AbortController | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly audiences: Audiences,
    private readonly options: DispatcherOptions,
  ) {
    this.keys = deliveryKeys(options.prefix ?? DEFAULT_DELIVERY_PREFIX);
    const leaseTtlMs = options.leaseTtlMs ?? 30_000;
    this.lease = new Lease(redis, this.keys.lease, leaseTtlMs);
    this.now = options.now ?? Date.now;
    this.pollMs = options.pollMs ?? 500;
    this.sendTimeoutMs = options.sendTimeoutMs ?? 10_000;
    this.retryBaseMs = options.retryBaseMs ?? 1_000;
    this.retryMaxMs = options.retryMaxMs ?? 60_000;
    this.log = options.log;
    if (this.sendTimeoutMs * 2 > leaseTtlMs) throw new Error('sendTimeoutMs must be at most half of leaseTtlMs');
  }

  /** Runs passes every `pollMs` and renews the lease (while held) every sixth of its TTL, until `stop`. */
  start(): void {
    if (this.running) return;
    const leaseTtlMs = this.options.leaseTtlMs ?? 30_000;
    this.renewing = setInterval(() => {
      if (this.saved)
        this.claim().catch((error: unknown) => this.log.warn({ err: error }, 'renewing the lease failed'));
    }, leaseTtlMs / 6);
    this.running = this.loop();
  }

  /**
   * Stops after the pass in progress. `release: false` leaves the lease to expire, as a crash
   * would (tests); otherwise another node can take over at once.
   */
  async stop({ release = true }: { release?: boolean } = {}): Promise<void> {
    this.stopping.abort();
    this.napping?.abort();
    clearInterval(this.renewing);
    await this.running;
    await this.passes;
    if (release && this.saved) await this.lease.release().catch(() => {});
    this.saved = undefined;
  }

  /**
   * Something was just queued on this node: the next pass starts now rather than at the next poll,
   * so an alert is not held back by up to `pollMs`. (Queued on another node, it waits for the poll.)
   */
  wake(): void {
    this.woken = true;
    this.napping?.abort();
  }

  /** True while this node holds the lease and sends. */
  get leading(): boolean {
    return this.saved !== undefined && this.lease.held();
  }

  /** Per channel, since start. */
  stats(): Record<string, ChannelCounters> {
    return Object.fromEntries(this.counters);
  }

  /** One pass (see the file comment); false when another node holds the lease. Passes never overlap. */
  runOnce(): Promise<boolean> {
    const pass = this.passes.then(() => this.pass());
    this.passes = pass.catch(() => {});
    return pass;
  }

  private async loop(): Promise<void> {
    let failing = false;
    while (!this.stopping.signal.aborted) {
      this.woken = false;
      // An outage is logged when it starts and when it ends, not twice a second.
      try {
        await this.runOnce();
        if (failing) this.log.info('delivery passes work again');
        failing = false;
      } catch (error) {
        if (!failing) this.log.warn({ err: error }, 'delivery pass failed; will keep trying');
        failing = true;
      }
      if (this.woken || this.stopping.signal.aborted) continue;
      this.napping = new AbortController();
      await sleep(this.pollMs, undefined, { signal: this.napping.signal }).catch(() => {});
    }
  }

  private async claim(): Promise<boolean> {
    const held = await this.lease.claim();
    if (!held && this.saved) this.abdicate();
    return held;
  }

  private abdicate(): void {
    if (!this.saved) return;
    this.log.warn('lost the delivery lease: another node sends now');
    this.saved = undefined;
    this.retries.clear();
  }

  private async pass(): Promise<boolean> {
    if (this.stopping.signal.aborted || !(await this.claim())) return false;
    if (!this.saved) {
      this.saved = await this.load();
      this.log.info({ pending: this.saved.outbox.length }, 'holding the delivery lease: this node sends');
    }
    const saved = this.saved;
    try {
      const now = this.now();
      let written = JSON.stringify(saved);
      const applied = await this.readInbox(saved, now);
      saved.outbox.push(...takeDue(saved.planner, now, this.options.policy));
      if (!(await this.save(saved, written))) return false;
      written = JSON.stringify(saved);
      if (applied.length > 0) await this.redis.xdel(this.keys.inbox, ...applied);

      const finished = await Promise.all(saved.outbox.map((notification) => this.deliver(notification, now)));
      saved.outbox = saved.outbox.filter((_, i) => !finished[i]);
      return await this.save(saved, written);
    } catch (error) {
      // What this pass changed may not be saved: start the next one from what is.
      if (this.saved === saved) this.saved = undefined;
      throw error;
    }
  }

  private async load(): Promise<Saved> {
    const stored = await this.redis.get(this.keys.state);
    if (stored === null) return { position: '0-0', planner: emptyState(), outbox: [] };
    const saved = JSON.parse(stored) as Saved;
    saved.planner.groupSentAt ??= {}; // saved before the per-sale wait was kept
    return saved;
  }

  /** Writes the state if it changed since `written`, only while the lease is ours. */
  private async save(saved: Saved, written: string): Promise<boolean> {
    const json = JSON.stringify(saved);
    if (json === written) return true;
    if (await this.lease.setIfHeld(this.keys.state, json)) return true;
    this.abdicate();
    return false;
  }

  /** Applies every inbox entry after the saved position; returns their ids. */
  private async readInbox(saved: Saved, now: number): Promise<string[]> {
    const ids: string[] = [];
    for (;;) {
      const entries = await this.redis.xrange(this.keys.inbox, `(${saved.position}`, '+', 'COUNT', INBOX_BATCH);
      for (const [id, fields] of entries) {
        ids.push(id);
        saved.position = id;
        const json = fields[fields.indexOf('i') + 1];
        try {
          apply(saved.planner, JSON.parse(json ?? '') as DeliveryInput, now, this.options.policy);
        } catch (error) {
          this.log.error({ err: error, entry: id }, 'skipping an unreadable delivery inbox entry');
        }
      }
      if (entries.length < INBOX_BATCH) return ids;
    }
  }

  /** Attempts every recipient still owed `notification`; true once none is (delivered, refused or expired). */
  private async deliver(notification: AlertNotification, now: number): Promise<boolean> {
    const records = await this.redis.hgetall(this.keys.delivered(notification.id));
    const attempts: Promise<boolean>[] = [];
    for (const notifier of this.audiences[notification.audience]) {
      let recipients: string[];
      try {
        recipients = await notifier.recipients();
      } catch (error) {
        this.log.warn({ err: error, channel: notifier.name }, 'cannot list the recipients; will try again');
        attempts.push(Promise.resolve(false));
        continue;
      }
      for (const recipient of recipients) {
        if (records[`${notifier.name}\n${recipient}`] === undefined) {
          attempts.push(this.attempt(notification, notifier, recipient, now));
        }
      }
    }
    return (await Promise.all(attempts)).every(Boolean);
  }

  /** One attempt at one recipient, unless it is backing off; true when it reached an outcome. */
  private async attempt(notification: AlertNotification, notifier: Notifier, recipient: string, now: number) {
    const field = `${notifier.name}\n${recipient}`;
    const retryKey = `${notification.id}\n${field}`;
    const retry = this.retries.get(retryKey);
    const deadline = notification.createdAt + notifier.deliverWithinMs;
    const context = { notification: notification.id, channel: notifier.name, recipient };
    if (now >= deadline) return this.record(notification, field, 'expired', 'expired');
    if ((retry && retry.at > now) || !this.lease.held(this.sendTimeoutMs)) return false;
    try {
      const signal = AbortSignal.any([AbortSignal.timeout(this.sendTimeoutMs), this.stopping.signal]);
      await notifier.send(notification, recipient, { now, deadline, signal });
    } catch (error) {
      const failure =
        error instanceof DeliveryError ? error : new DeliveryError(String(error), true, undefined, { cause: error });
      this.retries.delete(retryKey);
      if (!failure.retryable) {
        this.log.warn({ ...context, err: failure }, 'notification refused; dropped');
        return this.record(notification, field, `rejected: ${failure.message}`, 'rejected');
      }
      const attempts = (retry?.attempts ?? 0) + 1;
      const at = now + (failure.retryAfterMs ?? Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** (attempts - 1)));
      if (at >= deadline) {
        this.log.warn({ ...context, err: failure, attempts }, 'notification still failing past its deadline; dropped');
        return this.record(notification, field, `expired: ${failure.message}`, 'expired');
      }
      this.retries.set(retryKey, { attempts, at });
      this.count(notifier.name, 'retried');
      this.log.info({ ...context, err: failure, attempts, retryInMs: at - now }, 'notification failed; will retry');
      return false;
    }
    this.retries.delete(retryKey);
    return this.record(notification, field, 'sent', 'sent');
  }

  private async record(
    notification: AlertNotification,
    field: string,
    outcome: string,
    counter: keyof ChannelCounters,
  ): Promise<true> {
    const key = this.keys.delivered(notification.id);
    await this.redis.multi().hset(key, field, outcome).expire(key, RECORD_TTL_SEC).exec();
    this.count(field.slice(0, field.indexOf('\n')), counter);
    return true;
  }

  private count(channel: string, counter: keyof ChannelCounters): void {
    let counters = this.counters.get(channel);
    if (!counters) this.counters.set(channel, (counters = { sent: 0, rejected: 0, expired: 0, retried: 0 }));
    counters[counter]++;
  }
}

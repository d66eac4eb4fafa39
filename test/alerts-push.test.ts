/**
 * Web Push against a push service on loopback (a plain HTTP server standing in for FCM or Mozilla's
 * autopush), with phones whose keys the test makes: the body is decrypted here with the phone's
 * private key (RFC 8291, written out below rather than with the library that encrypted it) and
 * must be exactly the alert; the headers, the VAPID signature, a 410 and retries within the TTL.
 */
import { createDecipheriv, createECDH, hkdfSync, randomBytes, verify, type ECDH } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DeliveryDispatcher } from '../alerts/delivery/dispatcher';
import { DEFAULT_POLICY } from '../alerts/delivery/policy';
import { DeliveryQueue } from '../alerts/delivery/queue';
import { DeliveryError, type AlertNotification } from '../alerts/notify/notifier';
import { pushRoutes } from '../alerts/notify/push-routes';
import { PushStore, subscriptionId } from '../alerts/notify/push-store';
import { WebPushNotifier, pushPayload, topicOf, type PushPayload } from '../alerts/notify/webpush';
import type { Alert } from '../alerts/types';
import { connectRedis } from '../storage/redis';
import {
  T0,
  alert,
  fakeClock,
  fire,
  isolatedPrefix,
  resolve,
  startReceiver,
  type Received,
  type Receiver,
} from './helpers/delivery';
import { isolatedConfig, quietLog } from './helpers/stores';

const redis = connectRedis(isolatedConfig().redis.url, 'alerts-push-test');
let pushService: Receiver;
beforeAll(async () => (pushService = await startReceiver()));
afterAll(async () => {
  await pushService.close();
  await redis.quit();
});

let space: ReturnType<typeof isolatedPrefix>;
let store: PushStore;
let notifier: WebPushNotifier;
beforeEach(() => {
  space = isolatedPrefix(redis, 'push');
  store = new PushStore(redis, space.prefix, () => T0);
  notifier = new WebPushNotifier({ name: 'phones', subject: 'mailto:ops@example.com' }, store);
  pushService.received.length = 0;
  pushService.answer = () => ({ status: 201 });
});
afterEach(() => space.clean());

/** A browser's side of a subscription: its P-256 key pair and auth secret, and what it hands the server. */
function phone(name: string) {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const auth = randomBytes(16);
  const subscription = {
    endpoint: `${pushService.url}/push/${name}`,
    expirationTime: null,
    keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') },
  };
  return { ecdh, auth, subscription, id: subscriptionId(subscription.endpoint) };
}

/** RFC 8291 (Message Encryption for Web Push) with RFC 8188's aes128gcm coding, one record. */
function decrypt(body: Buffer, ecdh: ECDH, auth: Buffer): string {
  const salt = body.subarray(0, 16);
  const recordSize = body.readUInt32BE(16);
  const keyIdLength = body[20] ?? 0;
  const serverPublicKey = body.subarray(21, 21 + keyIdLength);
  const record = body.subarray(21 + keyIdLength);
  expect(record.length).toBeLessThanOrEqual(recordSize);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), ecdh.getPublicKey(), serverPublicKey]);
  const ikm = Buffer.from(hkdfSync('sha256', ecdh.computeSecret(serverPublicKey), auth, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(record.subarray(-16));
  const plain = Buffer.concat([decipher.update(record.subarray(0, -16)), decipher.final()]);
  let end = plain.length - 1;
  while (plain[end] === 0) end--;
  expect(plain[end]).toBe(2); // the last record's padding delimiter
  return plain.subarray(0, end).toString('utf8');
}

/** RFC 8292: `vapid t=<ES256 JWT>, k=<public key>`; returns the JWT's claims once its signature checks out. */
function vapidClaims(request: Received, publicKey: string): Record<string, unknown> {
  const match = /^vapid t=([^,]+), k=(\S+)$/.exec(String(request.headers.authorization));
  expect(match?.[2]).toBe(publicKey);
  const [header, claims, signature] = (match?.[1] ?? '').split('.');
  const raw = Buffer.from(publicKey, 'base64url');
  const jwk = {
    kty: 'EC',
    crv: 'P-256',
    x: raw.subarray(1, 33).toString('base64url'),
    y: raw.subarray(33, 65).toString('base64url'),
  };
  const signed = verify(
    'sha256',
    Buffer.from(`${header}.${claims}`),
    { key: jwk, format: 'jwk', dsaEncoding: 'ieee-p1363' },
    Buffer.from(signature ?? '', 'base64url'),
  );
  expect(signed).toBe(true);
  return JSON.parse(Buffer.from(claims ?? '', 'base64url').toString()) as Record<string, unknown>;
}

function notificationOf(...alerts: Alert[]): AlertNotification {
  return {
    id: 'n-1',
    auction: 'dallas',
    sale: 'sale-42',
    audience: 'primary',
    createdAt: T0,
    severity: alerts.some((a) => a.severity === 'critical') ? 'critical' : 'warning',
    items: alerts.map((a) => ({ idempotencyKey: `${a.key}#${a.transition}`, reason: 'firing' as const, alert: a })),
  };
}

const context = (now = T0) => ({ now, deadline: T0 + 300_000, signal: AbortSignal.timeout(5000) });

describe('Web Push to one phone', () => {
  it('delivers the alert encrypted for the phone: decrypted, it is exactly what was sent', async () => {
    const browser = phone('a');
    await store.subscribe(browser.subscription);
    const notification = notificationOf(alert('4'));
    await notifier.send(notification, browser.id, context());

    const [request] = pushService.received;
    expect(request?.path).toBe('/push/a');
    expect(request?.headers['content-encoding']).toBe('aes128gcm');
    const payload: unknown = JSON.parse(decrypt(request?.body ?? Buffer.alloc(0), browser.ecdh, browser.auth));
    expect(payload).toEqual(pushPayload(notification));
    expect(payload).toEqual({
      id: 'n-1',
      title: 'Firing · attendance.decline · lane 4',
      body: 'Firing: Lane 4: online bidders down 48 % (31 → 16)',
      auction: 'dallas',
      sale: 'sale-42',
      severity: 'warning',
      tag: topicOf(notification),
      alerts: [
        {
          key: 'attendance.decline|dallas|sale-42|4',
          rule: 'attendance.decline',
          lane: '4',
          message: 'Lane 4: online bidders down 48 % (31 → 16)',
          figures: { onlineBidders: 16, baseline: 31 },
          causes: ['stream lag on this lane'],
          state: 'firing',
          transition: 2,
          severity: 'warning',
          reason: 'firing',
          ack: '/api/alerts/attendance.decline%7Cdallas%7Csale-42%7C4/ack',
        },
      ],
      omitted: 0,
      actions: [{ action: 'acknowledge', title: 'Acknowledge' }],
    });
  });

  it('asks for a 5-minute TTL, normal urgency for a warning and high for a critical alert', async () => {
    const browser = phone('a');
    await store.subscribe(browser.subscription);
    await notifier.send(notificationOf(alert('4')), browser.id, context());
    await notifier.send(notificationOf(alert('4', { severity: 'critical' })), browser.id, context());
    // A retry 40 s later asks only for what is left of the 5 minutes.
    await notifier.send(notificationOf(alert('4')), browser.id, context(T0 + 40_000));
    expect(pushService.received.map((r) => [r.headers.ttl, r.headers.urgency])).toEqual([
      ['300', 'normal'],
      ['300', 'high'],
      ['260', 'normal'],
    ]);
  });

  it('sets a Topic of at most 32 URL-safe characters per alert, the same for its firing and its resolve', async () => {
    const browser = phone('a');
    await store.subscribe(browser.subscription);
    const firing = notificationOf(alert('4'));
    const resolved: AlertNotification = {
      ...firing,
      id: 'n-2',
      items: [{ idempotencyKey: 'x#4', reason: 'resolved', alert: alert('4', { state: 'resolved', transition: 4 }) }],
    };
    for (const n of [firing, resolved, notificationOf(alert('5')), notificationOf(alert('4'), alert('5'))]) {
      await notifier.send(n, browser.id, context());
    }
    const topics = pushService.received.map((r) => String(r.headers.topic));
    for (const topic of topics) expect(topic).toMatch(/^[A-Za-z0-9_-]{1,32}$/);
    expect(topics[0]).toBe(topics[1]);
    expect(new Set(topics).size).toBe(3);
  });

  it('signs with the stored VAPID key for the push service origin', async () => {
    const browser = phone('a');
    await store.subscribe(browser.subscription);
    await notifier.send(notificationOf(alert('4')), browser.id, context());
    const claims = vapidClaims(pushService.received[0] as Received, (await store.vapidKeys()).publicKey);
    expect(claims).toMatchObject({ aud: pushService.url, sub: 'mailto:ops@example.com' });
  });

  it('deletes the subscription when the push service answers 410, and keeps the others', async () => {
    const [gone, kept] = [phone('gone'), phone('kept')];
    await store.subscribe(gone.subscription);
    await store.subscribe(kept.subscription);
    pushService.answer = (_i, path) => ({ status: path.endsWith('/gone') ? 410 : 201 });
    const error = await notifier.send(notificationOf(alert('4')), gone.id, context()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as DeliveryError).retryable).toBe(false);
    expect(await store.ids()).toEqual([kept.id]);
  });
});

describe('Web Push through the dispatcher', () => {
  let queue: DeliveryQueue;
  let dispatcher: DeliveryDispatcher;
  let clock: ReturnType<typeof fakeClock>;
  let arrivals: number[];
  beforeEach(() => {
    clock = fakeClock();
    queue = new DeliveryQueue(redis, space.prefix);
    dispatcher = new DeliveryDispatcher(
      redis,
      { primary: [notifier], escalation: [] },
      { policy: DEFAULT_POLICY, prefix: space.prefix, now: clock.now, log: quietLog },
    );
    arrivals = [];
  });
  afterEach(() => dispatcher.stop());

  async function runFromTo(fromSec: number, toSec: number): Promise<void> {
    for (let s = fromSec; s <= toSec; s++) {
      clock.at(s * 1000);
      await dispatcher.runOnce();
    }
  }

  it('sends each subscribed phone each message once', async () => {
    const phones = [phone('a'), phone('b')];
    for (const p of phones) await store.subscribe(p.subscription);
    await queue.enqueue(fire(alert('4')));
    await queue.enqueue(fire(alert('5')));
    await runFromTo(0, 100);
    await queue.enqueue(resolve(alert('4')));
    await runFromTo(101, 200);
    const got = pushService.received.map((r) => {
      const browser = phones.find((p) => p.subscription.endpoint.endsWith(r.path));
      if (!browser) throw new Error(`a push to ${r.path}, which nobody subscribed`);
      const payload = JSON.parse(decrypt(r.body, browser.ecdh, browser.auth)) as PushPayload;
      return `${r.path} ${payload.alerts.map((a) => `${a.reason}:${a.lane}`).join(' ')}`;
    });
    expect(got.sort()).toEqual([
      '/push/a firing:4 firing:5',
      '/push/a resolved:4',
      '/push/b firing:4 firing:5',
      '/push/b resolved:4',
    ]);
  });

  it('retries a 429 or 5xx within the TTL, honouring Retry-After, with the TTL shrinking', async () => {
    const browser = phone('a');
    await store.subscribe(browser.subscription);
    const answers = [{ status: 503, headers: { 'retry-after': '30' } }, { status: 429 }, { status: 201 }];
    pushService.answer = (i) => {
      arrivals.push((clock.now() - T0) / 1000);
      return answers[i] ?? { status: 201 };
    };
    await queue.enqueue(fire(alert('4')));
    await runFromTo(0, 100);
    // 503 → its Retry-After of 30 s; 429 without one → the second backoff step, 2 s.
    expect(arrivals).toEqual([0, 30, 32]);
    expect(pushService.received.map((r) => r.headers.ttl)).toEqual(['300', '270', '268']);
    expect(dispatcher.stats()).toEqual({ phones: { sent: 1, rejected: 0, expired: 0, retried: 2 } });
  });

  it('gives up when the push service still fails as the TTL runs out', async () => {
    const browser = phone('a');
    await store.subscribe(browser.subscription);
    pushService.answer = () => {
      arrivals.push((clock.now() - T0) / 1000);
      return { status: 500 };
    };
    await queue.enqueue(fire(alert('4')));
    await runFromTo(0, 599); // at 600 s the first reminder would be a message of its own
    // 1, 2, 4 … 32 s, then every 60 s; the one after 243 s would be at 303 s, past 0 s + 300 s.
    expect(arrivals).toEqual([0, 1, 3, 7, 15, 31, 63, 123, 183, 243]);
    expect(dispatcher.stats()).toEqual({ phones: { sent: 0, rejected: 0, expired: 1, retried: 9 } });
  });

  it('forgets a phone whose subscription is gone (410) and does not retry it', async () => {
    const [gone, kept] = [phone('gone'), phone('kept')];
    await store.subscribe(gone.subscription);
    await store.subscribe(kept.subscription);
    pushService.answer = (_i, path) => ({ status: path.endsWith('/gone') ? 410 : 201 });
    await queue.enqueue(fire(alert('4')));
    await runFromTo(0, 100);
    await queue.enqueue(fire(alert('5')));
    await runFromTo(101, 200);
    // Both phones are sent to at once, so in either order.
    expect(pushService.received.map((r) => r.path).sort()).toEqual(['/push/gone', '/push/kept', '/push/kept']);
    expect(await store.ids()).toEqual([kept.id]);
    expect(dispatcher.stats()).toEqual({ phones: { sent: 2, rejected: 1, expired: 0, retried: 0 } });
  });
});

describe('subscriptions and VAPID keys', () => {
  let server: Server;
  let api: string;
  beforeEach(async () => {
    const app = express().use('/api', pushRoutes(store));
    server = await new Promise<Server>((done) => {
      const listening = app.listen(0, '127.0.0.1', () => done(listening));
    });
    api = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
  });
  afterEach(() => new Promise<void>((done) => server.close(() => done())));

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${api}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: res.status === 204 ? undefined : ((await res.json()) as unknown) };
  };

  it('subscribes a phone, knows it again, and unsubscribes it', async () => {
    const browser = phone('a');
    expect(await call('POST', '/push/subscriptions', browser.subscription)).toEqual({
      status: 201,
      body: { id: browser.id },
    });
    expect(await call('POST', '/push/subscriptions', browser.subscription)).toEqual({
      status: 200,
      body: { id: browser.id },
    });
    expect(await store.get(browser.id)).toEqual({
      endpoint: browser.subscription.endpoint,
      keys: browser.subscription.keys,
      subscribedAt: T0,
    });
    const endpoint = browser.subscription.endpoint;
    expect(await call('DELETE', '/push/subscriptions', { endpoint })).toEqual({ status: 204, body: undefined });
    expect(await call('DELETE', '/push/subscriptions', { endpoint })).toMatchObject({ status: 404 });
    expect(await store.ids()).toEqual([]);
  });

  it('refuses a malformed subscription and says why', async () => {
    const browser = phone('a');
    const bad = {
      endpoint: 'http://push.example.com/x',
      keys: { p256dh: browser.subscription.keys.p256dh.slice(0, 40), auth: browser.subscription.keys.auth },
    };
    expect(await call('POST', '/push/subscriptions', bad)).toEqual({
      status: 400,
      body: {
        error: 'invalid push subscription',
        reasons: ['endpoint: must be an https URL', 'keys.p256dh: must be 65 bytes (an uncompressed P-256 public key)'],
      },
    });
    expect(await store.ids()).toEqual([]);
  });

  it('serves the VAPID public key, made once and shared by every node and restart', async () => {
    const { body } = await call('GET', '/push/vapid-public-key');
    const { publicKey } = body as { publicKey: string };
    expect(Buffer.from(publicKey, 'base64url')).toHaveLength(65);
    // A second node (or this one restarted) on its own connection: the same pair.
    const other = connectRedis(isolatedConfig().redis.url, 'alerts-push-test-2');
    try {
      expect(await new PushStore(other, space.prefix).vapidKeys()).toEqual(await store.vapidKeys());
    } finally {
      await other.quit();
    }
  });

  it('agrees on one key pair when two nodes make it at once', async () => {
    const stores = Array.from({ length: 4 }, () => new PushStore(redis, space.prefix));
    const keys = await Promise.all(stores.map((s) => s.vapidKeys()));
    expect(new Set(keys.map((k) => k.publicKey)).size).toBe(1);
  });
});

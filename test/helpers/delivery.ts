/**
 * Builders for the delivery tests: alerts and their transitions, a fake clock, an HTTP receiver
 * on loopback standing in for a push service or a webhook, a notifier that only records, and an
 * isolated Redis key prefix that is removed afterwards.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import type { AlertNotification, Notifier } from '../../alerts/notify/notifier';
import type { Alert, AlertState, AlertTransition } from '../../alerts/types';

export const T0 = Date.UTC(2026, 10, 23, 15, 0);

export function fakeClock(start = T0): {
  start: number;
  now: () => number;
  advance(ms: number): void;
  at(ms: number): void;
} {
  let now = start;
  return {
    start,
    now: () => now,
    advance: (ms) => void (now += ms),
    at: (ms) => void (now = start + ms),
  };
}

/** A lane's `attendance.decline` alert (or `rule` for `sale` at `lane`). */
export function alert(lane: string, overrides: Partial<Alert> = {}): Alert {
  const rule = overrides.rule ?? 'attendance.decline';
  const sale = overrides.sale ?? 'sale-42';
  return {
    key: `${rule}|dallas|${sale}|${lane}`,
    rule,
    scope: 'lane',
    auction: 'dallas',
    sale,
    lane,
    severity: 'warning',
    state: 'firing',
    since: T0,
    firedAt: T0,
    figures: { onlineBidders: 16, baseline: 31 },
    causes: ['stream lag on this lane'],
    transition: 2,
    message: `Lane ${lane}: online bidders down 48 % (31 → 16)`,
    ...overrides,
  };
}

export function transition(of: Alert, from: AlertState, to: AlertState, transitionNumber: number): AlertTransition {
  return { alert: { ...of, state: to, transition: transitionNumber }, from, to, at: T0 };
}

/** pending → firing as transition 2. */
export const fire = (of: Alert, number = 2) => transition(of, 'pending', 'firing', number);
/** recovering → resolved as transition 4. */
export const resolve = (of: Alert, number = 4) => transition(of, 'recovering', 'resolved', number);

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** performance.now() when it arrived. */
  at: number;
  /** What it was answered; undefined for a reset connection. */
  status?: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** What to answer the n-th request (0-based): a status (201 by default), or `reset` the connection. */
  answer: (index: number, path: string) => { status: number; headers?: Record<string, string> } | 'reset';
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 that records every request and answers as `answer` says. */
export async function startReceiver(): Promise<Receiver> {
  const receiver: Receiver = {
    url: '',
    received: [],
    answer: () => ({ status: 201 }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const received: Received = {
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
        at: performance.now(),
      };
      const answer = receiver.answer(receiver.received.push(received) - 1, received.path);
      if (answer === 'reset') return void req.socket.destroy();
      received.status = answer.status;
      res.writeHead(answer.status, answer.headers).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}

/** A channel that records what it is given; `fail` decides per call whether (and how) it throws. */
export class RecordingNotifier implements Notifier {
  readonly sent: AlertNotification[] = [];
  readonly deliverWithinMs: number;

  constructor(
    readonly name: string,
    options: { deliverWithinMs?: number } = {},
  ) {
    this.deliverWithinMs = options.deliverWithinMs ?? 10 * 60_000;
  }

  recipients(): Promise<string[]> {
    return Promise.resolve([this.name]);
  }

  send(notification: AlertNotification): Promise<void> {
    this.sent.push(notification);
    return Promise.resolve();
  }

  /** Each message as `<seconds after T0>: <reason>:<lane> …`, e.g. `5: firing:1 firing:2`. */
  get log(): string[] {
    return this.sent.map(
      (n) => `${(n.createdAt - T0) / 1000}: ${n.items.map((item) => `${item.reason}:${item.alert.lane}`).join(' ')}`,
    );
  }
}

/** A fresh key prefix; `clean` deletes everything under it. */
export function isolatedPrefix(redis: Redis, name: string): { prefix: string; clean(): Promise<void> } {
  const prefix = `lanewatch:test:${name}:${randomUUID().slice(0, 8)}`;
  return {
    prefix,
    async clean() {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
    },
  };
}

/**
 * What the delivery dispatcher (alerts/delivery/dispatcher.ts) needs of a channel that reaches
 * people: phones through Web Push, a chat room or pager through a webhook. Retrying, backoff,
 * grouping, rate limits and remembering what was delivered live once in the dispatcher; a notifier
 * only knows how to deliver one message to one recipient and what a failure means.
 */
import type { Alert, Severity } from '../types';

/** Why an alert is in a message. */
export type NotificationReason = 'firing' | 'resolved' | 'reminder' | 'escalation';

export interface NotificationItem {
  /** `alert key + "#" + transition number`, plus `:reminder-N` / `:escalation` for the repeats. */
  idempotencyKey: string;
  reason: NotificationReason;
  /** The alert as it was when the item was queued. */
  alert: Alert;
  /** 1…max for a reminder. */
  reminder?: number;
}

/** One message: the items of one sale that fell due together, for one audience. */
export interface AlertNotification {
  /** Stable across retries and restarts; webhooks get it as `Idempotency-Key`. */
  id: string;
  auction: string;
  sale: string;
  /** `primary`: every channel not kept for escalation; `escalation`: the escalation channels. */
  audience: 'primary' | 'escalation';
  /** Clock time the message was composed; a channel tries to deliver it until `createdAt + deliverWithinMs`. */
  createdAt: number;
  /** The highest severity among the items. */
  severity: Severity;
  /** In the order the transitions arrived. */
  items: NotificationItem[];
}

export interface SendContext {
  /** The injected clock's now. */
  now: number;
  /** Past this clock time the message is not worth delivering (Web Push: its remaining TTL). */
  deadline: number;
  /** Aborted when the attempt takes too long or the dispatcher stops. */
  signal: AbortSignal;
}

export interface Notifier {
  /** The channel's configured name: in logs, counters, delivery records and the escalation list. */
  readonly name: string;
  /** How long after a message is composed this channel keeps retrying it. */
  readonly deliverWithinMs: number;
  /**
   * Who the channel reaches right now, one stable id each (a webhook: itself; Web Push: each
   * subscribed phone). Called by the dispatcher before each round of attempts at a message;
   * recipients that already got it are skipped, so a retry never repeats a delivery. Rejects only
   * when the list cannot be read (then the whole channel is retried).
   */
  recipients(): Promise<string[]>;
  /**
   * Delivers one message to one recipient. Called by the dispatcher of the node holding the
   * delivery lease, for at most one attempt per (message, recipient) at a time. Resolves once the
   * far end accepted it; rejects with a DeliveryError saying whether to retry.
   */
  send(notification: AlertNotification, recipient: string, context: SendContext): Promise<void>;
}

/**
 * A failed delivery, classified by what the dispatcher should do: `retryable` (network, timeout,
 * 429, 5xx: try again after `retryAfterMs` or its own backoff) or `permanent` (the far end refused
 * this message or recipient: drop and count, with the reason in the message).
 */
export class DeliveryError extends Error {
  override name = 'DeliveryError';

  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Classifies an HTTP answer: 2xx = delivered, 408/429/5xx = retry (honouring Retry-After), other = permanent. */
export function deliveryErrorFor(status: number, headers: Headers, what: string): DeliveryError | undefined {
  if (status >= 200 && status < 300) return undefined;
  const retryable = status === 408 || status === 429 || status >= 500;
  return new DeliveryError(`${what} answered ${status}`, retryable, retryable ? retryAfterMs(headers) : undefined);
}

/** Any error from fetch itself (refused, reset, DNS, timeout) is worth retrying. */
export function networkError(error: unknown, what: string): DeliveryError {
  return new DeliveryError(`${what} unreachable: ${(error as Error).message}`, true, undefined, { cause: error });
}

/** `Retry-After` in seconds or as an HTTP date (which is wall time, whatever clock the dispatcher runs on). */
function retryAfterMs(headers: Headers): number | undefined {
  const value = headers.get('retry-after')?.trim();
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

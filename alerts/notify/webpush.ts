/**
 * Web Push to every subscribed phone (RFC 8030/8291/8292): the `web-push` package encrypts the
 * payload and signs the VAPID header; the request itself goes out through fetch, so the send has
 * a timeout and an abort signal, and a push service on plain http (a test's) works too.
 */
import { createHash } from 'node:crypto';
import webpush from 'web-push';
import type { ChannelConfig } from '../../config';
import type { Alert } from '../types';
import { linesOf, titleOf } from './message';
import {
  DeliveryError,
  deliveryErrorFor,
  networkError,
  type AlertNotification,
  type NotificationItem,
  type Notifier,
  type SendContext,
} from './notifier';
import type { PushStore } from './push-store';

/** An alert older than 5 minutes is news no longer: the push service may drop it after that. */
export const PUSH_TTL_SEC = 300;
/**
 * Push services take at most 4096 bytes of encrypted body; aes128gcm adds 86 bytes of header, a
 * 16-byte tag and a padding delimiter, so the JSON must stay a little under 3993 bytes.
 */
const MAX_PAYLOAD_BYTES = 3900;

/** What the service worker receives: the alerts, the words to show and how to acknowledge. */
export interface PushPayload {
  id: string;
  title: string;
  body: string;
  auction: string;
  sale: string;
  severity: Alert['severity'];
  /** Same as the Topic header: a notification with the same tag replaces the one on screen. */
  tag: string;
  alerts: PushedAlert[];
  /** Alerts left out to stay within the push services' size limit. */
  omitted: number;
  /** Offered when something is firing: the service worker POSTs each `ack` URL. */
  actions: { action: 'acknowledge'; title: string }[];
}

export interface PushedAlert extends Pick<
  Alert,
  'key' | 'rule' | 'lane' | 'message' | 'figures' | 'causes' | 'state' | 'transition' | 'severity'
> {
  reason: NotificationItem['reason'];
  /** `POST` here acknowledges the alert (API.md `POST /api/alerts/:id/ack`); only while it fires. */
  ack?: string;
}

type WebPushConfig = Extract<ChannelConfig, { type: 'webpush' }>;

export class WebPushNotifier implements Notifier {
  readonly name: string;
  readonly deliverWithinMs = PUSH_TTL_SEC * 1000;

  constructor(
    private readonly config: Pick<WebPushConfig, 'name' | 'subject'>,
    private readonly store: PushStore,
  ) {
    this.name = config.name;
  }

  /** Every subscribed phone, by subscription id. */
  recipients(): Promise<string[]> {
    return this.store.ids();
  }

  async send(
    notification: AlertNotification,
    recipient: string,
    { now, deadline, signal }: SendContext,
  ): Promise<void> {
    const subscription = await this.store.get(recipient);
    if (!subscription) throw new DeliveryError('the phone unsubscribed', false);
    // What is left of the 5 minutes: a retried message must not outlive the first attempt's.
    const ttl = Math.min(PUSH_TTL_SEC, Math.floor((deadline - now) / 1000));
    if (ttl <= 0) throw new DeliveryError('too old to deliver', false);
    const vapid = await this.store.vapidKeys();
    const request = webpush.generateRequestDetails(subscription, JSON.stringify(pushPayload(notification)), {
      vapidDetails: { subject: this.config.subject, ...vapid },
      TTL: ttl,
      urgency: notification.severity === 'critical' ? 'high' : 'normal',
      topic: topicOf(notification),
    });
    let response: Response;
    try {
      response = await fetch(request.endpoint, {
        method: request.method,
        // fetch sets Content-Length itself; the rest as generated (numbers as strings).
        headers: Object.fromEntries(
          Object.entries(request.headers)
            .filter(([name]) => name.toLowerCase() !== 'content-length')
            .map(([name, value]) => [name, String(value)]),
        ),
        body: request.body && new Uint8Array(request.body),
        signal,
      });
      await response.arrayBuffer();
    } catch (error) {
      throw networkError(error, 'push service');
    }
    if (response.status === 404 || response.status === 410) {
      // The browser dropped the subscription (uninstalled, permission revoked): forget the phone.
      await this.store.unsubscribe(subscription.endpoint);
      throw new DeliveryError(`push service answered ${response.status}: subscription gone, deleted`, false);
    }
    const error = deliveryErrorFor(response.status, response.headers, 'push service');
    if (error) throw error;
  }
}

/**
 * Web Push topics are at most 32 URL-safe base64 characters, and an alert key is longer, so the
 * topic is a hash of the keys in the message: a later message about the same alerts (its resolve,
 * a reminder) replaces one still waiting at the push service for a phone that is offline.
 */
export function topicOf(notification: AlertNotification): string {
  const keys = [...new Set(notification.items.map((item) => item.alert.key))].sort();
  return createHash('sha256').update(keys.join('\n')).digest('base64url').slice(0, 32);
}

export function pushPayload(notification: AlertNotification): PushPayload {
  const alerts = notification.items.map(pushedAlert);
  const lines = linesOf(notification);
  const payload: PushPayload = {
    id: notification.id,
    title: titleOf(notification),
    body: lines.join('\n'),
    auction: notification.auction,
    sale: notification.sale,
    severity: notification.severity,
    tag: topicOf(notification),
    alerts,
    omitted: 0,
    actions: alerts.some((alert) => alert.ack) ? [{ action: 'acknowledge', title: 'Acknowledge' }] : [],
  };
  return fitted(payload, lines);
}

function pushedAlert({ alert, reason }: NotificationItem): PushedAlert {
  const { key, rule, lane, message, figures, causes, state, transition, severity } = alert;
  return {
    key,
    rule,
    lane,
    message,
    figures,
    causes,
    state,
    transition,
    severity,
    reason,
    ack: reason === 'resolved' ? undefined : `/api/alerts/${encodeURIComponent(key)}/ack`,
  };
}

/** Within the size limit: first without figures and causes, then with the last alerts left out. */
function fitted(payload: PushPayload, lines: readonly string[]): PushPayload {
  const size = (p: PushPayload) => Buffer.byteLength(JSON.stringify(p));
  if (size(payload) <= MAX_PAYLOAD_BYTES) return payload;
  const lean = payload.alerts.map((alert) => ({ ...alert, figures: {}, causes: [] }));
  let kept = lean.length;
  const cut = (): PushPayload => {
    const omitted = lean.length - kept;
    const body = lines.slice(0, kept).join('\n') + (omitted > 0 ? `\n+${omitted} more` : '');
    return { ...payload, body, alerts: lean.slice(0, kept), omitted };
  };
  while (size(cut()) > MAX_PAYLOAD_BYTES && kept > 1) kept--;
  return cut();
}

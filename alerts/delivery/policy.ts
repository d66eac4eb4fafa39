/**
 * When phones and webhooks hear about an alert (METRICS.md §Alerts, Delivery), as a pure state
 * machine: transitions and acknowledgements go in, messages come out when they fall due. No I/O
 * and no clock of its own: the dispatcher passes `now`, persists the state and sends the messages.
 *
 * - A sale's phones (or webhooks) get at most one message per `groupWaitMs`: a firing or resolve
 *   goes out at once when the sale's last message is older than that, and otherwise waits for
 *   the wait to end, together with all that joined meanwhile. So the first news of a sale is not
 *   held back, and a platform outage that drops lane after lane makes two messages, not eight.
 * - A firing alert nobody acknowledged is sent again every `reminderEveryMs`, at most
 *   `reminderMax` times, and once to the escalation audience after `escalateAfterMs`.
 * - No key is in two messages to the same audience less than `minIntervalMs` apart: its item
 *   waits, and the rest of its group goes without it.
 * - A firing whose message has not gone out yet when it resolves is dropped with its resolve:
 *   nobody needs the all-clear for an alarm they never got.
 *
 * Functions here change the state they are given; the same inputs at the same times always give
 * the same messages.
 */
import { createHash } from 'node:crypto';
import type { AlertNotification, NotificationItem } from '../notify/notifier';
import type { Alert, AlertTransition } from '../types';

export interface DeliveryPolicy {
  /** At most one message per sale and audience this often (the first one at once). */
  groupWaitMs: number;
  reminderEveryMs: number;
  reminderMax: number;
  minIntervalMs: number;
  /** Undefined: no escalation configured. */
  escalateAfterMs: number | undefined;
}

export const DEFAULT_POLICY: DeliveryPolicy = {
  groupWaitMs: 5_000,
  reminderEveryMs: 10 * 60_000,
  reminderMax: 3,
  minIntervalMs: 60_000,
  escalateAfterMs: undefined,
};

export type Audience = AlertNotification['audience'];

/** What the producers put on the queue: a transition of the engine, or a person's acknowledgement. */
export type DeliveryInput =
  | { type: 'transition'; transition: AlertTransition }
  /** `transition`: the alert's transition number when it was acknowledged. */
  | { type: 'acknowledge'; key: string; transition: number };

export interface DeliveryState {
  keys: Record<string, KeyState>;
  groups: Group[];
  /** When each sale's last message went out, per audience (`groupId`); kept for `groupWaitMs`. */
  groupSentAt: Record<string, number>;
}

interface KeyState {
  alert: Alert;
  /** Transition number of the firing that opened the current episode. */
  episode: number;
  /** Firing or recovering: reminders and escalation may still follow. */
  active: boolean;
  /** Audiences that were told (or are about to be told) the alert fires, and so are owed its resolve. */
  told: Record<Audience, boolean>;
  acknowledged: boolean;
  /** When the firing message went out: the escalation clock starts there. */
  firstSentAt?: number;
  /** When the firing message or the last reminder went out (or was queued): reminders count from here. */
  lastNotifiedAt?: number;
  reminders: number;
  escalated: boolean;
  /** When this key was last in a message, per audience: the once-a-minute limit. */
  lastSentAt: Partial<Record<Audience, number>>;
}

interface QueuedItem extends NotificationItem {
  /** When its group may send it: at once, or when the sale's wait since its last message ends. */
  due: number;
  /** Not before this clock time (the once-a-minute limit). */
  notBefore: number;
}

/**
 * A sale's queued items for one audience. It goes out when one of its items is due and past its
 * limit, taking along every item that is past its limit.
 */
interface Group {
  auction: string;
  sale: string;
  audience: Audience;
  items: QueuedItem[];
}

export function emptyState(): DeliveryState {
  return { keys: {}, groups: [], groupSentAt: {} };
}

/** Only these can change what phones and webhooks hear: the rest need not be queued at all. */
export function mattersForDelivery(transition: AlertTransition): boolean {
  const live = ['firing', 'recovering', 'resolved'];
  return (
    live.includes(transition.to) || live.includes(transition.from) || transition.alert.acknowledgedAt !== undefined
  );
}

export function apply(state: DeliveryState, input: DeliveryInput, now: number, policy: DeliveryPolicy): void {
  if (input.type === 'acknowledge') acknowledge(state, input.key, input.transition);
  else applyTransition(state, input.transition, now, policy);
}

function applyTransition(state: DeliveryState, { alert, to }: AlertTransition, now: number, policy: DeliveryPolicy) {
  const known = state.keys[alert.key];
  if (known && alert.transition < known.alert.transition) return; // older than what is known
  if (to === 'firing' && !known?.active) {
    state.keys[alert.key] = {
      alert,
      episode: alert.transition,
      active: true,
      told: { primary: true, escalation: false },
      acknowledged: acknowledgedThisEpisode(alert),
      reminders: 0,
      escalated: false,
      lastSentAt: known?.lastSentAt ?? {},
    };
    queue(state, 'primary', { idempotencyKey: idempotencyKey(alert), reason: 'firing', alert }, now, policy, true);
    return;
  }
  if (!known) return;
  known.alert = alert;
  if (acknowledgedThisEpisode(alert)) acknowledge(state, alert.key, alert.transition);
  if (to === 'firing' || to === 'recovering') return; // the same episode goes on
  known.active = false; // resolved, suppressed (snoozed, lane closed), flapping: no more repeats
  unqueue(state, alert.key, ['reminder']);
  if (to !== 'resolved') return;
  const resolved: NotificationItem = { idempotencyKey: idempotencyKey(alert), reason: 'resolved', alert };
  for (const audience of ['primary', 'escalation'] as const) {
    if (!known.told[audience]) continue;
    known.told[audience] = false;
    // Still queued: take the alarm back instead of sending it and its all-clear.
    const announcing = audience === 'primary' ? 'firing' : 'escalation';
    if (unqueue(state, alert.key, [announcing], audience) === 0) {
      queue(state, audience, resolved, now, policy, true);
    }
  }
}

function acknowledge(state: DeliveryState, key: string, transition: number): void {
  const known = state.keys[key];
  if (!known || transition < known.episode) return; // an earlier episode's acknowledgement
  known.acknowledged = true;
  unqueue(state, key, ['reminder']);
}

/**
 * Queues the reminders and escalations that fell due, then takes every group whose time has come
 * and returns its ready items as messages, oldest group first.
 */
export function takeDue(state: DeliveryState, now: number, policy: DeliveryPolicy): AlertNotification[] {
  for (const known of Object.values(state.keys)) {
    if (!repeating(known)) continue;
    const { alert } = known;
    if (known.reminders < policy.reminderMax && now >= known.lastNotifiedAt + policy.reminderEveryMs) {
      known.reminders++;
      known.lastNotifiedAt = now;
      const reminder = { idempotencyKey: `${idempotencyKey(alert)}:reminder-${known.reminders}`, alert };
      queue(state, 'primary', { ...reminder, reason: 'reminder', reminder: known.reminders }, now, policy, false);
    }
    if (escalationDueAt(known, policy) <= now) {
      known.escalated = true;
      known.told.escalation = true;
      const escalation = { idempotencyKey: `${idempotencyKey(alert)}:escalation`, alert };
      queue(state, 'escalation', { ...escalation, reason: 'escalation' }, now, policy, false);
    }
  }

  const messages: AlertNotification[] = [];
  state.groups.sort((a, b) => dueAt(a) - dueAt(b));
  for (const group of state.groups) {
    if (dueAt(group) > now) continue;
    const ready = group.items.filter((item) => item.notBefore <= now);
    group.items = group.items.filter((item) => item.notBefore > now);
    messages.push(compose(group, ready, now));
    state.groupSentAt[groupId(group)] = now;
    for (const item of ready) {
      const known = state.keys[item.alert.key];
      if (!known) continue;
      known.lastSentAt[group.audience] = now;
      if (item.reason === 'firing') known.firstSentAt = known.lastNotifiedAt = now;
    }
  }
  state.groups = state.groups.filter((group) => group.items.length > 0);
  for (const [id, at] of Object.entries(state.groupSentAt))
    if (at + policy.groupWaitMs <= now) delete state.groupSentAt[id];
  forgetFinished(state, now, policy);
  return messages;
}

/** Firing (not recovering), told, not acknowledged: reminders and escalation run. */
function repeating(known: KeyState): known is KeyState & { lastNotifiedAt: number; firstSentAt: number } {
  return known.active && !known.acknowledged && known.alert.state === 'firing' && known.firstSentAt !== undefined;
}

function escalationDueAt(known: KeyState & { firstSentAt: number }, policy: DeliveryPolicy): number {
  return policy.escalateAfterMs === undefined || known.escalated
    ? Infinity
    : known.firstSentAt + policy.escalateAfterMs;
}

/**
 * Adds an item to its sale's group for `audience`, replacing the key's queued item. A firing or
 * resolve waits out its sale's `groupWaitMs` since the last message; a reminder or escalation is
 * due at once (and takes along whatever waits). No item goes within its key's rate limit.
 */
function queue(
  state: DeliveryState,
  audience: Audience,
  item: NotificationItem,
  now: number,
  policy: DeliveryPolicy,
  grouped: boolean,
) {
  const { auction, sale, key } = item.alert;
  let group = state.groups.find((g) => g.audience === audience && g.auction === auction && g.sale === sale);
  if (!group) {
    group = { auction, sale, audience, items: [] };
    state.groups.push(group);
  }
  const lastMessage = state.groupSentAt[groupId(group)] ?? -Infinity;
  const due = grouped ? Math.max(now, lastMessage + policy.groupWaitMs) : now;
  const lastSent = state.keys[key]?.lastSentAt[audience];
  const notBefore = Math.max(now, (lastSent ?? -Infinity) + policy.minIntervalMs);
  group.items = group.items.filter((queued) => queued.alert.key !== key);
  group.items.push({ ...item, due, notBefore });
}

/** When the group goes: its first item that is both due and past its rate limit. */
function dueAt(group: Group): number {
  return Math.min(...group.items.map((item) => Math.max(item.due, item.notBefore)));
}

function groupId(group: Pick<Group, 'audience' | 'auction' | 'sale'>): string {
  return `${group.audience}|${group.auction}|${group.sale}`;
}

/** An acknowledgement left on the alert by an earlier episode does not silence this one. */
function acknowledgedThisEpisode(alert: Alert): boolean {
  return alert.acknowledgedAt !== undefined && alert.acknowledgedAt >= (alert.firedAt ?? -Infinity);
}

/** Drops a key's queued items of the given reasons; returns how many. */
function unqueue(
  state: DeliveryState,
  key: string,
  reasons: NotificationItem['reason'][],
  audience?: Audience,
): number {
  let dropped = 0;
  for (const group of state.groups) {
    if (audience !== undefined && group.audience !== audience) continue;
    const kept = group.items.filter((item) => item.alert.key !== key || !reasons.includes(item.reason));
    dropped += group.items.length - kept.length;
    group.items = kept;
  }
  state.groups = state.groups.filter((group) => group.items.length > 0);
  return dropped;
}

/** A key that is over, owes nobody a resolve and is past its rate limit needs no memory. */
function forgetFinished(state: DeliveryState, now: number, policy: DeliveryPolicy): void {
  const queued = new Set(state.groups.flatMap((group) => group.items.map((item) => item.alert.key)));
  for (const [key, known] of Object.entries(state.keys)) {
    if (known.active || known.told.primary || known.told.escalation || queued.has(key)) continue;
    if (Object.values(known.lastSentAt).some((at) => now < at + policy.minIntervalMs)) continue;
    delete state.keys[key];
  }
}

function compose(group: Group, items: QueuedItem[], now: number): AlertNotification {
  const bare = items.map(({ due: _due, notBefore: _limit, ...item }) => item);
  const id = createHash('sha256')
    .update(`${group.audience}\n${bare.map((item) => item.idempotencyKey).join('\n')}`)
    .digest('base64url')
    .slice(0, 22);
  return {
    id,
    auction: group.auction,
    sale: group.sale,
    audience: group.audience,
    createdAt: now,
    severity: bare.some((item) => item.alert.severity === 'critical') ? 'critical' : 'warning',
    items: bare,
  };
}

/** Alert key + transition number: the same transition enqueued twice (two nodes, a retry) is one. */
export function idempotencyKey(alert: Pick<Alert, 'key' | 'transition'>): string {
  return `${alert.key}#${alert.transition}`;
}

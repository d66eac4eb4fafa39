/** The words of a notification, shared by every channel that shows text: a title and one line per alert. */
import type { Alert } from '../types';
import type { AlertNotification, NotificationItem } from './notifier';

const PREFIX: Record<NotificationItem['reason'], string> = {
  firing: 'Firing',
  resolved: 'Resolved',
  reminder: 'Still firing',
  escalation: 'Unacknowledged',
};

/** "Firing · attendance.decline · lane 4", or "Sale 42 · 3 alerts" for a group. */
export function titleOf(notification: AlertNotification): string {
  const [only, ...others] = notification.items;
  if (only && others.length === 0) return `${PREFIX[only.reason]} · ${only.alert.rule} · ${placeOf(only.alert)}`;
  return `Sale ${notification.sale} · ${notification.items.length} alerts`;
}

/** "Firing: Lane 4: online bidders down 48 % (31 → 16)"; reminders say which one they are. */
export function lineOf(item: NotificationItem): string {
  const prefix = item.reason === 'reminder' ? `${PREFIX.reminder} (reminder ${item.reminder})` : PREFIX[item.reason];
  return `${prefix}: ${item.alert.message}`;
}

export function linesOf(notification: AlertNotification): string[] {
  return notification.items.map(lineOf);
}

function placeOf(alert: Alert): string {
  if (alert.lane !== undefined) return `lane ${alert.lane}`;
  if (alert.source !== undefined) return `feed ${alert.source}`;
  return `sale ${alert.sale}`;
}

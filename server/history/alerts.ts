/**
 * Alert history in InfluxDB: every transition (`alert_transitions`) and every manager's action
 * with who did it (`alert_actions`). Written in the background; a failed write is logged, and the
 * live alert state in Redis does not depend on it.
 */
import { escape } from '@influxdata/influxdb-client';
import type { Logger } from 'pino';
import type { InfluxStore } from '../../storage/influxdb';
import type { Alert, AlertTransition } from '../../alerts/types';
import type { ActionResult, AlertAction, AlertHistoryRecorder } from '../alert-desk';

export class InfluxAlertHistory implements AlertHistoryRecorder {
  constructor(
    private readonly store: () => InfluxStore | undefined,
    private readonly log: Logger,
  ) {}

  transition({ alert, from, to, at }: AlertTransition): void {
    const fields = {
      key: alert.key,
      from,
      transition: alert.transition,
      severity: alert.severity,
      message: alert.message,
      causes: alert.causes.join('; '),
    };
    this.write(line('alert_transitions', tagsOf(alert, { rule: alert.rule, to }), fields, at));
  }

  action(action: AlertAction, result: ActionResult, at: number): void {
    const alert = result.ok ? result.alert : undefined;
    const tags: Record<string, string | undefined> = {
      action: action.kind,
      outcome: result.ok ? 'done' : 'refused',
      ...(alert ? { auction: alert.auction, sale: alert.sale, lane: alert.lane, rule: alert.rule } : {}),
      ...(action.kind === 'silence' ? { sale: action.sale, lane: action.lane, rule: action.rule } : {}),
    };
    const fields: Record<string, string | number> = { by: action.by };
    if (action.kind === 'ack' || action.kind === 'snooze') fields.key = action.key;
    if (action.kind === 'snooze' || action.kind === 'silence') fields.minutes = action.minutes;
    if (action.kind === 'rules') fields.patch = JSON.stringify(action.patch);
    if (!result.ok) fields.error = result.error;
    this.write(line('alert_actions', tags, fields, at));
  }

  private write(text: string): void {
    const store = this.store();
    if (!store) {
      this.log.warn('InfluxDB not connected: an alert history entry was not stored');
      return;
    }
    store.writeLines([text]).catch((error: unknown) => this.log.warn({ err: error }, 'storing alert history failed'));
  }
}

function tagsOf(alert: Alert, extra: Record<string, string>): Record<string, string | undefined> {
  return { auction: alert.auction, sale: alert.sale, lane: alert.lane, source: alert.source, ...extra };
}

function line(
  measurement: string,
  tags: Record<string, string | undefined>,
  fields: Record<string, string | number>,
  at: number,
): string {
  const tagText = Object.entries(tags)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `,${key}=${escape.tag(value)}`)
    .join('');
  const fieldText = Object.entries(fields)
    .map(([key, value]) => `${key}=${typeof value === 'number' ? `${value}i` : escape.quoted(value)}`)
    .join(',');
  return `${measurement}${tagText} ${fieldText} ${at}000000`;
}

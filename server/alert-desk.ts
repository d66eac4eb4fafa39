import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { mergeAlertConfig, type AlertConfig } from '../alerts/config';
import { Lease } from '../alerts/delivery/lease';
import {
  acknowledgeAlert,
  anyPending,
  createAlertsState,
  currentAlerts,
  evaluateSale,
  forgetRetiredSales,
  restoreAlerts,
  serializeAlerts,
  type AlertsState,
} from '../alerts/evaluator';
import { saleSample } from '../alerts/samples';
import type { SeasonalPrior } from '../alerts/seasonal';
import type { AlertMute } from '../alerts/suppression';
import type { Alert, AlertRule, AlertTransition } from '../alerts/types';
import type { SaleState } from './metrics/engine';

/** A manager's action on alerts, as queued for the node that evaluates. */
export type AlertAction =
  | { kind: 'ack'; key: string; by: string }
  | { kind: 'snooze'; key: string; minutes: number; by: string }
  | { kind: 'silence'; sale: string; lane?: string; rule?: AlertRule; minutes: number; by: string }
  | { kind: 'rules'; patch: unknown; by: string };

export type ActionResult =
  { ok: true; alert?: Alert; config?: AlertConfig; mute?: AlertMute } | { ok: false; status: 400 | 404; error: string };

/** What happened, for the alert history in InfluxDB: a transition, or a person's action. */
export interface AlertHistoryRecorder {
  transition(transition: AlertTransition): void;
  action(action: AlertAction, result: ActionResult, at: number): void;
}

export interface AlertDeskOptions {
  /** Prefix of the desk's Redis keys (the live stream's name: alerts belong to its events). */
  prefix: string;
  config: AlertConfig;
  /** The site's usual attendance shape (it is reloaded as sales end); none yet = recent level alone. */
  prior(): SeasonalPrior | undefined;
  /** Every transition, at once: the wall (socket.io, all nodes) and the delivery queue. */
  announce(transition: AlertTransition): Promise<void>;
  /** Someone acknowledged a firing alert: reminders stop, and the screens show who. */
  acknowledged(alert: Alert): Promise<void>;
  history: AlertHistoryRecorder;
  log: Logger;
  leaseTtlMs?: number;
  /** The server retires a sale this long after its last event; its alerts go a while after. */
  retireSaleAfterMs: number;
}

interface SharedState {
  alerts: string;
  mutes: AlertMute[];
  config: AlertConfig;
}

const ACTION_WAIT_MS = 5000;
const RESULT_TTL_SEC = 60;
const DAY_MS = 86_400_000;

/**
 * The server's alert desk. Every node runs one, but only the holder of a Redis lease evaluates:
 * it runs the rules over every sale each second (four times a second while an alert is pending,
 * `holding`), applies the managers' actions, stores the whole alert state in Redis (written only
 * while it still holds the lease) and announces transitions.
 * The other nodes read that state for their screens and queue actions for the holder. If the
 * holder dies its lease lapses and another node carries on from the stored state, so an alert is
 * neither fired twice nor forgotten; transitions that came due meanwhile are announced then.
 */
export class AlertDesk {
  private state: AlertsState = createAlertsState();
  private mutes: AlertMute[] = [];
  private config: AlertConfig;
  private leading = false;
  private readonly lease: Lease;
  private readonly keys: { state: string; actions: string; result: (id: string) => string };

  constructor(
    private readonly redis: Redis,
    private readonly options: AlertDeskOptions,
  ) {
    this.config = options.config;
    this.lease = new Lease(redis, `${options.prefix}:alerts:lease`, options.leaseTtlMs ?? 10_000);
    this.keys = {
      state: `${options.prefix}:alerts:state`,
      actions: `${options.prefix}:alerts:actions`,
      result: (id) => `${options.prefix}:alerts:result:${id}`,
    };
  }

  get isLeading(): boolean {
    return this.leading;
  }

  /** An alert on this node is waiting out its hold: the next rounds should come sooner. */
  get holding(): boolean {
    return this.leading && anyPending(this.state);
  }

  /**
   * One evaluation round, called after the engine's tick (each second, and each quarter second
   * while `holding`) with every sale and its event-time now. On a node without the lease it only
   * refreshes the state it shows.
   */
  async tick(sales: readonly { sale: SaleState; now: number }[]): Promise<void> {
    if (!(await this.lease.claim())) {
      this.leading = false;
      await this.readShared();
      return;
    }
    if (!this.leading) await this.readShared(); // taking over: carry on from the last holder
    this.leading = true;

    const { results, actions } = await this.applyActions(sales);
    const transitions: AlertTransition[] = [];
    // Sales run on unrelated clocks; a mute a day past its end under the newest one is surely over.
    const newest = Math.max(...sales.map(({ now }) => now));
    this.mutes = this.mutes.filter((mute) => (mute.silencedUntil ?? mute.snoozedUntil ?? Infinity) > newest - DAY_MS);
    for (const { sale, now } of sales) {
      const context = { config: this.config, mutes: this.mutes, prior: this.options.prior() };
      transitions.push(...evaluateSale(this.state, saleSample(sale, now, this.config), now, context));
    }
    const evaluated = new Set(sales.map(({ sale }) => sale.sale));
    const forgotten = forgetRetiredSales(this.state, evaluated, Date.now() - this.options.retireSaleAfterMs);
    if (forgotten.length > 0) this.options.log.info({ sales: forgotten }, 'forgot the alerts of retired sales');
    // Announced before the state is stored: after a crash in between, the same transitions come
    // again with the same numbers, which the delivery queue takes once.
    for (const transition of transitions) await this.options.announce(transition);
    const shared: SharedState = { alerts: serializeAlerts(this.state), mutes: this.mutes, config: this.config };
    if (!(await this.lease.setIfHeld(this.keys.state, JSON.stringify(shared)))) {
      this.leading = false;
      return;
    }
    for (const transition of transitions) this.options.history.transition(transition);
    for (const [id, result] of results) {
      const action = actions.get(id);
      if (action?.kind === 'ack' && result.ok && result.alert) await this.options.acknowledged(result.alert);
      await this.redis.set(this.keys.result(id), JSON.stringify(result), 'EX', RESULT_TTL_SEC);
    }
  }

  /**
   * At start-up, before the screens' first second: the alerts as last stored, so the wall shows
   * them (and the markers it restored go on) from the start rather than after the first round.
   * Must not fail the start: an unreadable store is logged, and every round reads it again.
   */
  async load(): Promise<void> {
    await this.readShared().catch((error: unknown) =>
      this.options.log.warn({ err: error }, 'could not read the stored alerts; they show from the first round'),
    );
  }

  /** Alerts as they stand; `acknowledged` = firing and acknowledged. */
  list(filter?: { state?: string; sale?: string }): Alert[] {
    const alerts = currentAlerts(this.state, filter?.sale);
    const wanted = filter?.state;
    if (wanted === undefined) return alerts;
    if (wanted === 'acknowledged') {
      return alerts.filter((alert) => alert.state === 'firing' && alert.acknowledgedBy !== undefined);
    }
    return alerts.filter((alert) => alert.state === wanted);
  }

  rules(): AlertConfig {
    return this.config;
  }

  /**
   * Queues an action for the evaluating node and waits for its result (at most one round, ~1 s).
   * Undefined when no node answered in time (no lease holder).
   */
  async act(action: AlertAction): Promise<ActionResult | undefined> {
    const id = randomUUID();
    await this.redis.rpush(this.keys.actions, JSON.stringify({ id, action }));
    const deadline = Date.now() + ACTION_WAIT_MS;
    while (Date.now() < deadline) {
      const text = await this.redis.get(this.keys.result(id));
      if (text !== null) return JSON.parse(text) as ActionResult;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return undefined;
  }

  async stop(): Promise<void> {
    if (this.leading) await this.lease.release().catch(() => {});
    this.leading = false;
  }

  private async readShared(): Promise<void> {
    const text = await this.redis.get(this.keys.state);
    if (text === null) return;
    try {
      const shared = JSON.parse(text) as SharedState;
      this.state = restoreAlerts(shared.alerts);
      this.mutes = shared.mutes;
      this.config = shared.config;
    } catch (error) {
      this.options.log.warn({ err: error }, 'stored alert state cannot be read; starting afresh');
    }
  }

  private async applyActions(
    sales: readonly { sale: SaleState; now: number }[],
  ): Promise<{ results: Map<string, ActionResult>; actions: Map<string, AlertAction> }> {
    const results = new Map<string, ActionResult>();
    const actions = new Map<string, AlertAction>();
    for (;;) {
      const text = await this.redis.lpop(this.keys.actions);
      if (text === null) return { results, actions };
      const { id, action } = JSON.parse(text) as { id: string; action: AlertAction };
      const result = this.apply(action, sales);
      results.set(id, result);
      actions.set(id, action);
      this.options.history.action(action, result, Date.now());
    }
  }

  private apply(action: AlertAction, sales: readonly { sale: SaleState; now: number }[]): ActionResult {
    const nowOf = (sale: string) => sales.find((s) => s.sale.sale === sale)?.now;
    switch (action.kind) {
      case 'ack': {
        const alert = this.find(action.key);
        if (!alert) return { ok: false, status: 404, error: `no alert ${JSON.stringify(action.key)}` };
        const acknowledged = acknowledgeAlert(this.state, action.key, action.by, nowOf(alert.sale) ?? alert.since);
        if (!acknowledged) return { ok: false, status: 400, error: 'only a firing alert can be acknowledged' };
        return { ok: true, alert: acknowledged };
      }
      case 'snooze': {
        const alert = this.find(action.key);
        if (!alert) return { ok: false, status: 404, error: `no alert ${JSON.stringify(action.key)}` };
        const mute: AlertMute = {
          key: action.key,
          snoozedUntil: (nowOf(alert.sale) ?? alert.since) + action.minutes * 60_000,
        };
        this.mutes.push(mute);
        return { ok: true, alert: { ...alert, snoozedUntil: mute.snoozedUntil }, mute };
      }
      case 'silence': {
        const now = nowOf(action.sale);
        if (now === undefined) return { ok: false, status: 404, error: `no sale ${JSON.stringify(action.sale)}` };
        const mute: AlertMute = {
          sale: action.sale,
          ...(action.lane === undefined ? {} : { lane: action.lane }),
          ...(action.rule === undefined ? {} : { rule: action.rule }),
          silencedUntil: now + action.minutes * 60_000,
        };
        this.mutes.push(mute);
        return { ok: true, mute };
      }
      case 'rules': {
        const merged = mergeAlertConfig(this.config, action.patch);
        if (!merged.ok) return { ok: false, status: 400, error: merged.errors.join('; ') };
        this.config = merged.config;
        return { ok: true, config: merged.config };
      }
    }
  }

  private find(key: string): Alert | undefined {
    return currentAlerts(this.state).find((alert) => alert.key === key);
  }
}

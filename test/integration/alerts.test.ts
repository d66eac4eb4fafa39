/**
 * Alerts through the whole system on the real services, with two server nodes on one Redis:
 * a simulated sale whose lane loses its online crowd → collector → stream → both nodes → the one
 * that holds the lease evaluates → socket.io to every screen, a webhook, InfluxDB history; a
 * manager acknowledges through the other node.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { startCollector } from '../../collector/collector';
import { SimulatorSource, simulateSale } from '../../collector/sources/simulator';
import type { Alert, AlertTransition } from '../../alerts/types';
import { startServer, type RunningServer } from '../../server/server';
import type { ClientToServerEvents, ServerToClientEvents } from '../../server/wire';
import { connectInflux, quoteLiteral } from '../../storage/influxdb';
import { grantToken, withToken } from '../helpers/access';
import { startReceiver, type Receiver } from '../helpers/delivery';
import { dropStores, isolatedConfig, quietLog } from '../helpers/stores';

const SPEED = 60;
// One simulated hour in a wall minute; its scripted collapse hits one lane from minute 12.
const sale = simulateSale({
  seed: 3,
  lanes: 4,
  durationMin: 60,
  speed: SPEED,
  auction: 'alertville',
  start: undefined,
});
const collapse = sale.incidents.find((incident) => incident.kind === 'attendance.collapse');

let receiver: Receiver;
let config: ReturnType<typeof isolatedConfig>;
let nodes: RunningServer[] = [];
let screens: Socket<ServerToClientEvents, ClientToServerEvents>[] = [];
const seen: AlertTransition[] = [];
/** The node that was evaluating, stopped mid-sale once the decline was acknowledged. */
let stopped: RunningServer | undefined;
/** The manager's acknowledgement, sent through the other node the moment the decline fires. */
let acknowledged: Promise<{ status: number; body: Alert | { error: string } }> | undefined;
/** Manager tokens: the acknowledgement is recorded under the token's name. */
let maria: string;

beforeAll(async () => {
  receiver = await startReceiver();
  const notify = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lanewatch-notify-')), 'notify.json');
  fs.writeFileSync(
    notify,
    JSON.stringify({ channels: [{ type: 'webhook', name: 'ops', format: 'json', url: 'env:OPS_HOOK_URL' }] }),
  );
  config = isolatedConfig({ NOTIFY_CONFIG: notify, OPS_HOOK_URL: `${receiver.url}/hook` });
  nodes = [await startServer(config, quietLog), await startServer(config, quietLog)];
  maria = await grantToken(config, 'manager', 'Maria');
  const sam = await grantToken(config, 'manager', 'Sam');
  // One screen on each node; each keeps what its node sends until the node goes.
  screens = nodes.map((node, i) => {
    const screen = io(`http://127.0.0.1:${node.port}/live`, { transports: ['websocket'], auth: { token: sam } });
    screen.on('alert', (transition) => {
      // Both screens get every transition; one list is enough, from whichever still runs.
      if (i !== liveScreen()) return;
      seen.push(transition);
      if (transition === declineFiring()) acknowledged ??= acknowledge(transition.alert.key).then(stopTheEvaluator);
    });
    return screen;
  });
  await Promise.all(screens.map((screen) => new Promise<void>((resolve) => screen.on('connect', resolve))));
  const collector = await startCollector(config, [{ source: new SimulatorSource(sale, SPEED) }], quietLog);
  await collector.finished;
  await collector.stop();
  // The webhook waits 5 s to group a sale's alerts.
  await new Promise((resolve) => setTimeout(resolve, 8000));
}, 150_000);

afterAll(async () => {
  for (const screen of screens) screen.close();
  for (const node of nodes) if (node !== stopped) await node.stop();
  await receiver?.close();
  if (config) await dropStores(config);
});

function liveScreen(): number {
  return nodes.findIndex((node) => node !== stopped);
}

/** The evaluating node goes away mid-sale; the other must carry on without firing anything twice. */
async function stopTheEvaluator<T>(acknowledgement: T): Promise<T> {
  const evaluating = nodes.find((node) => node.alerts.isLeading);
  if (evaluating) {
    stopped = evaluating;
    await evaluating.stop();
  }
  return acknowledgement;
}

async function acknowledge(key: string) {
  // Through the node that is not evaluating: it queues the action for the one that is.
  const other = nodes.find((node) => !node.alerts.isLeading) ?? nodes[0];
  const response = await fetch(
    `http://127.0.0.1:${other?.port}/api/alerts/${encodeURIComponent(key)}/ack`,
    withToken(maria, { method: 'POST' }),
  );
  return { status: response.status, body: (await response.json()) as Alert | { error: string } };
}

function declineFiring(): AlertTransition | undefined {
  return seen.find((t) => t.alert.rule === 'attendance.decline' && t.alert.scope === 'lane' && t.to === 'firing');
}

describe('alerts, end to end on two nodes', () => {
  it('fires attendance.decline for the lane that collapsed, during the collapse, with its figures', () => {
    expect(collapse?.lane).toBeDefined();
    const firing = declineFiring();
    expect(firing?.alert.lane).toBe(collapse?.lane);
    expect(firing?.at).toBeGreaterThanOrEqual(collapse?.from ?? Infinity);
    expect(firing?.at).toBeLessThan(collapse?.to ?? -Infinity);
    expect(firing?.alert.message).toContain(`Lane ${collapse?.lane}`);
    expect(Object.keys(firing?.alert.figures ?? {}).length).toBeGreaterThan(0);
  });

  it('sends each transition to a screen once, though two nodes run', () => {
    // An acknowledgement is shown as the same state and number again, not as a transition.
    const ids = seen.filter((t) => t.from !== t.to).map((t) => `${t.alert.key}#${t.alert.transition}`);
    expect(ids.length).toBeGreaterThan(0);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('posts each firing and resolve to the webhook once, grouped per sale', () => {
    const items = receiver.received.flatMap(
      (r) => (JSON.parse(r.body.toString()) as { items: { idempotencyKey: string; reason: string }[] }).items,
    );
    const keys = items.map((item) => item.idempotencyKey);
    expect(new Set(keys).size).toBe(keys.length);
    const firing = declineFiring();
    expect(keys).toContain(`${firing?.alert.key}#${firing?.alert.transition}`);
    expect(receiver.received.every((r) => r.path === '/hook')).toBe(true);
  });

  it('lets a manager acknowledge a firing alert through the other node, and records who did it', async () => {
    const firing = declineFiring();
    if (!firing || !acknowledged) throw new Error('no decline fired');
    const { status, body } = await acknowledged;
    expect(status).toBe(200);
    expect(body).toMatchObject({ key: firing.alert.key, state: 'firing', acknowledgedBy: 'Maria' });
    // Every screen is told who acknowledged it.
    expect(seen).toContainEqual(
      expect.objectContaining({
        from: 'firing',
        to: 'firing',
        alert: expect.objectContaining({ acknowledgedBy: 'Maria' }),
      }),
    );
    const influx = await connectInflux(config.influx);
    const [actions] = await influx.query(`SELECT "by", "key", "outcome" FROM "alert_actions" WHERE "action" = 'ack'`);
    const [transitions] = await influx.query(
      `SELECT "key" FROM "alert_transitions" WHERE "to" = 'firing' AND "sale" = ${quoteLiteral(sale.sale)}`,
    );
    await influx.close();
    expect(actions?.values.map((row) => row.slice(1))).toEqual([['Maria', firing.alert.key, 'done']]);
    expect(transitions?.values.map((row) => row[1])).toContain(firing.alert.key);
  });

  it('carried on after the evaluating node stopped mid-sale: no alert fired twice, none forgotten', () => {
    expect(stopped).toBeDefined();
    const byKey = new Map<string, AlertTransition[]>();
    for (const t of seen.filter((t) => t.from !== t.to)) byKey.set(t.alert.key, [...(byKey.get(t.alert.key) ?? []), t]);
    for (const transitions of byKey.values()) {
      const numbers = transitions.map((t) => t.alert.transition);
      expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
      // Each transition starts where the one before it ended.
      for (let i = 1; i < transitions.length; i++) expect(transitions[i]?.from).toBe(transitions[i - 1]?.to);
    }
    // The acknowledged episode was carried over to its resolve, not fired afresh on the new node.
    const decline = (byKey.get(declineFiring()?.alert.key ?? '') ?? []).map((t) => t.to);
    const fired = decline.indexOf('firing');
    const resolved = decline.indexOf('resolved', fired);
    expect(resolved).toBeGreaterThan(fired);
    expect(decline.slice(fired + 1, resolved)).not.toContain('firing');
  });

  it('answers the alert list from the node that took over', async () => {
    const node = nodes[liveScreen()];
    const response = await fetch(`http://127.0.0.1:${node?.port}/api/alerts`, withToken(maria));
    const alerts = (await response.json()) as Alert[];
    expect(alerts.map((a) => a.key)).toContain(declineFiring()?.alert.key);
  });

  it('takes the same actions over socket.io, answered through the acknowledgement', async () => {
    const screen = screens[liveScreen()];
    const key = declineFiring()?.alert.key ?? '';
    const snoozed = await new Promise<unknown>((resolve) => screen?.emit('snoozeAlert', { key, minutes: 5 }, resolve));
    expect(snoozed).toMatchObject({ ok: true, data: { key, snoozedUntil: expect.any(Number) } });
    const refused = await new Promise<unknown>((resolve) =>
      screen?.emit('silenceAlerts', { sale: sale.sale, minutes: 0 }, resolve),
    );
    expect(refused).toMatchObject({ ok: false, error: expect.stringMatching(/^minutes: /) });
    const silenced = await new Promise<unknown>((resolve) =>
      screen?.emit('silenceAlerts', { sale: sale.sale, lane: collapse?.lane, minutes: 30 }, resolve),
    );
    expect(silenced).toMatchObject({ ok: true, data: { sale: sale.sale, lane: collapse?.lane } });
  });

  it('rejects a malformed action, and an unknown state filter', async () => {
    const base = `http://127.0.0.1:${nodes[liveScreen()]?.port}/api`;
    const snooze = await fetch(
      `${base}/alerts/x/snooze`,
      withToken(maria, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"minutes":"ten"}' }),
    );
    expect(snooze.status).toBe(400);
    expect(((await snooze.json()) as { error: string }).error).toMatch(/^minutes: /);
    expect((await fetch(`${base}/alerts?state=burning`, withToken(maria))).status).toBe(400);
  });
});

import { Router, type Response } from 'express';
import { z } from 'zod';
import { badRequest } from './bad-request';
import { ALERT_RULES, ALERT_STATES } from '../../alerts/types';
import { principalOf, requireRole } from '../access/http';
import type { ActionResult, AlertDesk } from '../alert-desk';

/** `acknowledged` = firing and acknowledged: a filter, not a state of its own. */
const STATE_FILTERS = [...ALERT_STATES, 'acknowledged'] as const;

/** The bodies of the actions; who did each comes from their login or token, not from the body. */
export const actionBodies = {
  ack: z.object({}),
  snooze: z.object({
    minutes: z
      .number()
      .int()
      .min(1)
      .max(24 * 60),
  }),
  silence: z.object({
    sale: z.string().min(1),
    lane: z.string().min(1).optional(),
    rule: z.enum(ALERT_RULES).optional(),
    minutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60),
  }),
  rules: z.object({ patch: z.record(z.string(), z.unknown()) }),
};

/**
 * `/api/alerts…` (../shared/API.md): the alerts, acknowledge, snooze, silence a lane or rule, and
 * the rule thresholds. Reading alerts needs a viewer; acting on them and the thresholds a manager,
 * recorded under their name. Actions are applied by the evaluating node (see AlertDesk) and
 * answered with what they changed.
 */
export function alertRoutes(desk: AlertDesk): Router {
  const router = Router();
  router.get('/alerts', (req, res) => {
    const state = z.enum(STATE_FILTERS).optional().safeParse(req.query.state);
    if (!state.success) {
      res.status(400).json({ error: `state must be one of ${STATE_FILTERS.join(', ')}` });
      return;
    }
    const sale = typeof req.query.sale === 'string' ? req.query.sale : undefined;
    res.json(desk.list({ state: state.data, sale }));
  });
  const manager = requireRole('manager');
  router.get('/alerts/rules', manager, (_req, res) => {
    res.json(desk.rules());
  });
  router.patch('/alerts/rules', manager, async (req, res) => {
    const body = actionBodies.rules.safeParse(req.body);
    if (!body.success) return badRequest(res, body.error);
    const by = principalOf(res).name;
    reply(res, await desk.act({ kind: 'rules', by, ...body.data }), (result) => result.config);
  });
  router.post('/alerts/silences', manager, async (req, res) => {
    const body = actionBodies.silence.safeParse(req.body);
    if (!body.success) return badRequest(res, body.error);
    const by = principalOf(res).name;
    reply(res, await desk.act({ kind: 'silence', by, ...body.data }), (result) => result.mute);
  });
  router.post('/alerts/:id/ack', manager, async (req, res) => {
    const by = principalOf(res).name;
    reply(res, await desk.act({ kind: 'ack', key: String(req.params.id), by }), (result) => result.alert);
  });
  router.post('/alerts/:id/snooze', manager, async (req, res) => {
    const body = actionBodies.snooze.safeParse(req.body);
    if (!body.success) return badRequest(res, body.error);
    const by = principalOf(res).name;
    reply(
      res,
      await desk.act({ kind: 'snooze', key: String(req.params.id), by, ...body.data }),
      (result) => result.alert,
    );
  });
  return router;
}

function reply(
  res: Response,
  result: ActionResult | undefined,
  body: (ok: Extract<ActionResult, { ok: true }>) => unknown,
) {
  if (!result) res.status(503).json({ error: 'no alert evaluator answered; try again' });
  else if (!result.ok) res.status(result.status).json({ error: result.error });
  else res.json(body(result));
}

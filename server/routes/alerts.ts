import { Router, type Response } from 'express';
import { z } from 'zod';
import { ALERT_RULES, ALERT_STATES } from '../../alerts/types';
import type { ActionResult, AlertDesk } from '../alert-desk';

/** `acknowledged` = firing and acknowledged: a filter, not a state of its own. */
const STATE_FILTERS = [...ALERT_STATES, 'acknowledged'] as const;

const who = z.string().trim().min(1).max(100);
/** Every action names who did it: it is recorded with the alert history. */
export const actionBodies = {
  ack: z.object({ by: who }),
  snooze: z.object({
    by: who,
    minutes: z
      .number()
      .int()
      .min(1)
      .max(24 * 60),
  }),
  silence: z.object({
    by: who,
    sale: z.string().min(1),
    lane: z.string().min(1).optional(),
    rule: z.enum(ALERT_RULES).optional(),
    minutes: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60),
  }),
  rules: z.object({ by: who, patch: z.record(z.string(), z.unknown()) }),
};

/**
 * `/api/alerts…` (../shared/API.md): the alerts, acknowledge, snooze, silence a lane or rule, and
 * the rule thresholds. Actions are applied by the evaluating node (see AlertDesk) and answered
 * with what they changed.
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
  router.get('/alerts/rules', (_req, res) => {
    res.json(desk.rules());
  });
  router.patch('/alerts/rules', async (req, res) => {
    const body = actionBodies.rules.safeParse(req.body);
    if (!body.success) return badRequest(res, body.error);
    reply(res, await desk.act({ kind: 'rules', ...body.data }), (result) => result.config);
  });
  router.post('/alerts/silences', async (req, res) => {
    const body = actionBodies.silence.safeParse(req.body);
    if (!body.success) return badRequest(res, body.error);
    reply(res, await desk.act({ kind: 'silence', ...body.data }), (result) => result.mute);
  });
  router.post('/alerts/:id/ack', async (req, res) => {
    const body = actionBodies.ack.safeParse(req.body);
    if (!body.success) return badRequest(res, body.error);
    reply(res, await desk.act({ kind: 'ack', key: req.params.id, ...body.data }), (result) => result.alert);
  });
  router.post('/alerts/:id/snooze', async (req, res) => {
    const body = actionBodies.snooze.safeParse(req.body);
    if (!body.success) return badRequest(res, body.error);
    reply(res, await desk.act({ kind: 'snooze', key: req.params.id, ...body.data }), (result) => result.alert);
  });
  return router;
}

function badRequest(res: Response, error: z.ZodError): void {
  res.status(400).json({ error: error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') });
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

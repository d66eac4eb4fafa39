import { Router } from 'express';
import { z } from 'zod';
import type { InfluxStore } from '../../storage/influxdb';
import { HISTORY_METRICS } from '../history/figures';
import { laneHistory, newestPointAt, planRange } from '../history/query';

/** The last instant InfluxDB can store (2262-04-11). */
const LATEST_INSTANT_MS = 9_223_372_036_854;

const instant = z.string().transform((text, ctx) => {
  const ms = /^\d{1,16}$/.test(text)
    ? Number(text)
    : z.iso.datetime({ offset: true }).safeParse(text).success
      ? Date.parse(text)
      : NaN;
  if (ms >= 0 && ms <= LATEST_INSTANT_MS) return ms;
  ctx.addIssue({
    code: 'custom',
    message: `must be epoch milliseconds or an ISO 8601 time between 1970 and 2262 (got ${JSON.stringify(text)})`,
  });
  return z.NEVER;
});

const UNIT_SEC = { s: 1, m: 60, h: 3600 } as const;
/** Wider buckets than this would overflow InfluxDB's durations long before anyone could use them. */
const MAX_STEP_SEC = 366 * 86_400;

/** Whole seconds (`15`) or a duration (`15s`, `1m`, `2h`). */
const step = z.string().transform((text, ctx) => {
  const match = /^(\d{1,9})([smh]?)$/.exec(text);
  const seconds = match ? Number(match[1]) * UNIT_SEC[(match[2] || 's') as keyof typeof UNIT_SEC] : 0;
  if (seconds >= 1 && seconds <= MAX_STEP_SEC) return seconds;
  const expected = 'whole seconds from 1 s to a year, as 15 or a duration like 15s, 1m, 2h';
  ctx.addIssue({ code: 'custom', message: `must be ${expected} (got ${JSON.stringify(text)})` });
  return z.NEVER;
});

const historyQuery = z.object({
  metric: z.enum(HISTORY_METRICS, {
    error: (issue) => {
      const problem = issue.input === undefined ? 'required' : `unknown metric ${JSON.stringify(issue.input)}`;
      return `${problem}; one of ${HISTORY_METRICS.join(', ')}`;
    },
  }),
  from: instant.optional(),
  to: instant.optional(),
  step: step.optional(),
});

/**
 * `GET /api/sales/:sale/lanes/:lane/history?metric=&from=&to=&step=` → `{ metric, points }`.
 * `store` returns undefined until the server has connected to InfluxDB; `now` is the clock the
 * default range falls back to when the lane has no history.
 */
export function historyRoutes(store: () => InfluxStore | undefined, now: () => number = Date.now): Router {
  const router = Router();
  router.get('/sales/:sale/lanes/:lane/history', async (req, res) => {
    const parsed = historyQuery.safeParse(req.query);
    if (!parsed.success) {
      const reasons = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
      res.status(400).json({ error: reasons.join('; ') });
      return;
    }
    const influx = store();
    if (!influx) {
      res.status(503).json({ error: 'history is unavailable: InfluxDB is not connected' });
      return;
    }
    const { sale, lane } = req.params;
    const { metric, from, to, step: stepSec } = parsed.data;
    try {
      const newest =
        from === undefined && to === undefined ? await newestPointAt(influx, sale, lane, metric) : undefined;
      const range = planRange({ from, to, stepSec }, newest, now());
      if (!range.ok) {
        res.status(400).json({ error: range.reason });
        return;
      }
      const points = await laneHistory(influx, {
        sale,
        lane,
        metric,
        from: range.from,
        to: range.to,
        stepSec: range.stepSec,
      });
      res.json({ metric, points });
    } catch (error) {
      res.status(503).json({ error: `history is unavailable: ${(error as Error).message}` });
    }
  });
  return router;
}

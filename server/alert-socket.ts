import type { Namespace } from 'socket.io';
import { z } from 'zod';
import type { AlertAction, AlertDesk } from './alert-desk';
import { actionBodies } from './routes/alerts';
import type { Ack, ClientToServerEvents, ServerToClientEvents } from './wire';

/**
 * The alert actions over socket.io, for screens that are already connected: the same actions,
 * validation and answers as the REST routes (./routes/alerts), one acknowledgement callback each.
 */
export function alertSocketActions(
  namespace: Namespace<ClientToServerEvents, ServerToClientEvents>,
  desk: AlertDesk,
): void {
  namespace.on('connection', (socket) => {
    socket.on(
      'ackAlert',
      (request, ack) =>
        void answer(desk, actionBodies.ack.extend({ key: keySchema }), request, ack, (body) => ({
          kind: 'ack',
          ...body,
        })),
    );
    socket.on(
      'snoozeAlert',
      (request, ack) =>
        void answer(desk, actionBodies.snooze.extend({ key: keySchema }), request, ack, (body) => ({
          kind: 'snooze',
          ...body,
        })),
    );
    socket.on(
      'silenceAlerts',
      (request, ack) => void answer(desk, actionBodies.silence, request, ack, (body) => ({ kind: 'silence', ...body })),
    );
  });
}

const keySchema = z.string().min(1).max(500);

async function answer<S extends z.ZodType>(
  desk: AlertDesk,
  schema: S,
  request: unknown,
  ack: unknown,
  toAction: (body: z.infer<S>) => AlertAction,
): Promise<void> {
  const reply = (typeof ack === 'function' ? ack : () => {}) as (answer: Ack<unknown>) => void;
  const body = schema.safeParse(request);
  if (!body.success)
    return reply({ ok: false, error: body.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
  const result = await desk.act(toAction(body.data));
  if (!result) reply({ ok: false, error: 'no alert evaluator answered; try again' });
  else if (!result.ok) reply({ ok: false, error: result.error });
  else reply({ ok: true, data: result.alert ?? result.mute ?? result.config });
}

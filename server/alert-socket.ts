import type { Namespace } from 'socket.io';
import { z } from 'zod';
import { refusal } from './access/roles';
import { principalOfSocket } from './access/socket';
import type { AlertAction, AlertDesk } from './alert-desk';
import { actionBodies } from './routes/alerts';
import type { Ack, ClientToServerEvents, ServerToClientEvents } from './wire';

/**
 * The alert actions over socket.io, for screens that are already connected: the same actions,
 * validation, role (manager) and answers as the REST routes (./routes/alerts), one acknowledgement
 * callback each, recorded under the name the connection authenticated as.
 */
export function alertSocketActions(
  namespace: Namespace<ClientToServerEvents, ServerToClientEvents>,
  desk: AlertDesk,
): void {
  namespace.on('connection', (socket) => {
    const principal = principalOfSocket(socket);
    const act =
      <S extends z.ZodType>(schema: S, toAction: (body: z.infer<S>, by: string) => AlertAction) =>
      (request: unknown, ack: unknown) => {
        const reply = (typeof ack === 'function' ? ack : () => {}) as (answer: Ack<unknown>) => void;
        const refused = refusal(principal, 'manager');
        if (refused !== undefined) return reply({ ok: false, error: refused });
        void answer(desk, schema, request, reply, (body) => toAction(body, principal.name));
      };
    socket.on(
      'ackAlert',
      act(actionBodies.ack.extend({ key: keySchema }), ({ key }, by) => ({ kind: 'ack', key, by })),
    );
    socket.on(
      'snoozeAlert',
      act(actionBodies.snooze.extend({ key: keySchema }), (body, by) => ({ kind: 'snooze', ...body, by })),
    );
    socket.on(
      'silenceAlerts',
      act(actionBodies.silence, (body, by) => ({ kind: 'silence', ...body, by })),
    );
  });
}

const keySchema = z.string().min(1).max(500);

async function answer<S extends z.ZodType>(
  desk: AlertDesk,
  schema: S,
  request: unknown,
  reply: (answer: Ack<unknown>) => void,
  toAction: (body: z.infer<S>) => AlertAction,
): Promise<void> {
  const body = schema.safeParse(request);
  if (!body.success)
    return reply({ ok: false, error: body.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
  const result = await desk.act(toAction(body.data));
  if (!result) reply({ ok: false, error: 'no alert evaluator answered; try again' });
  else if (!result.ok) reply({ ok: false, error: result.error });
  else reply({ ok: true, data: result.alert ?? result.mute ?? result.config });
}

/**
 * Access control for socket.io: a connection authenticates at its handshake, with the same
 * credentials as HTTP (server/access/credentials.ts) — the browser's session cookie, or
 * `io(url, { auth: { token } })`. Every connected socket is at least a viewer; actions check for
 * more themselves (server/alert-socket.ts). When its credential ends (logout, revocation, a
 * removed user or changed role, announced by the store on Redis) the socket is closed: the client
 * reconnects and is judged afresh, and a refused one sees `UNAUTHORIZED`.
 */
import type { Redis } from 'ioredis';
import type { Namespace, Socket } from 'socket.io';
import { identify } from './credentials';
import type { Principal } from './roles';
import { endedChannel, type AccessStore } from './store';

/** The message a refused client gets as its `connect_error`. */
export const UNAUTHORIZED = 'unauthorized: log in, or connect with auth.token';

/**
 * `subscriber` is a Redis connection of its own (it enters subscribe mode); `prefix` is the
 * store's. Resolves once the subscription stands.
 */
export async function authenticateSockets(
  namespace: Namespace,
  store: AccessStore,
  subscriber: Redis,
  prefix: string,
): Promise<void> {
  namespace.use((socket, next) => {
    const { headers, auth } = socket.handshake;
    identify(store, { headers, token: (auth as { token?: unknown }).token }).then(
      (principal) => {
        if (!principal) return next(new Error(UNAUTHORIZED));
        (socket.data as { principal?: Principal }).principal = principal;
        void socket.join(principal.holders.map(holderRoom));
        next();
      },
      (error: unknown) => next(error instanceof Error ? error : new Error(String(error))),
    );
  });
  // Each node closes its own sockets: every node hears every announcement. Closing the transport
  // (not `disconnect()`, which tells the client to stay away) makes the client reconnect at once.
  subscriber.on('message', (_channel: string, holder: string) => {
    for (const id of namespace.adapter.rooms.get(holderRoom(holder)) ?? []) namespace.sockets.get(id)?.conn.close();
  });
  await subscriber.subscribe(endedChannel(prefix));
}

const holderRoom = (holder: string) => `access:${holder}`;

/** Who an authenticated socket belongs to. */
export function principalOfSocket(socket: Socket): Principal {
  const { principal } = socket.data as { principal?: Principal };
  if (!principal) throw new Error('socket without a principal: authenticateSockets must run first');
  return principal;
}

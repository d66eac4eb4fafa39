/**
 * A TCP relay on 127.0.0.1 in front of a server, which a test can cut — every open connection
 * dropped and new ones refused, as when a screen's network goes away — and restore.
 */
import net from 'node:net';

export interface NetworkCut {
  /** The relay's port: point the browser here instead of at the server. */
  port: number;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function relayTo(targetPort: number): Promise<NetworkCut> {
  let down = false;
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on('close', () => open.delete(socket));
      socket.on('error', () => socket.destroy());
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut() {
      down = true;
      for (const socket of open) socket.destroy();
    },
    restore() {
      down = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A platform feed on 127.0.0.1 for tests: a websocket server whose behaviour per connection the
 * test scripts, remembering what each client asked for.
 */
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface FeedConnection {
  /** Path and query the client connected with, e.g. `/feed?since=3`. */
  url: string;
  authorization: string | undefined;
  socket: WebSocket;
  openedAt: number;
  /** The close code the client sent, once it has closed. */
  closeCode?: number;
}

export interface FeedServer {
  url: string;
  connections: FeedConnection[];
  close(): Promise<void>;
}

/** `serve` is called for each connection with its 0-based number. */
export async function startFeedServer(
  serve: (connection: FeedConnection, index: number) => void | Promise<void>,
): Promise<FeedServer> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  const connections: FeedConnection[] = [];
  server.on('connection', (socket, request) => {
    const connection: FeedConnection = {
      url: request.url ?? '',
      authorization: request.headers.authorization,
      socket,
      openedAt: Date.now(),
    };
    socket.on('close', (code) => (connection.closeCode = code));
    connections.push(connection);
    void serve(connection, connections.length - 1);
  });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/feed`,
    connections,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const client of server.clients) client.terminate();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

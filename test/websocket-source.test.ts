import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { WebsocketSource, type WebsocketFeed } from '../collector/sources/websocket';
import { startFeedServer, type FeedServer } from './helpers/feed-server';
import { quietLog } from './helpers/stores';

let feed: FeedServer | undefined;
afterEach(async () => {
  await feed?.close();
  feed = undefined;
});

const heartbeat = (seq: number) => ({ type: 'heartbeat', seq });
const send = (socket: { send(data: string): void }, seq: number) => socket.send(JSON.stringify(heartbeat(seq)));

function feedConfig(server: FeedServer, extra: Partial<WebsocketFeed> = {}): WebsocketFeed {
  return { name: 'edge-ws-1', url: server.url, silenceTimeoutSec: 5, ...extra };
}

/** The source's log records, to read its reconnect decisions. */
function recordingLog() {
  const records: { msg: string; reason?: string; retryInMs?: number }[] = [];
  return { records, log: pino({ level: 'info' }, { write: (line: string) => records.push(JSON.parse(line)) }) };
}

async function first(source: WebsocketSource, count: number): Promise<unknown[]> {
  const received: unknown[] = [];
  for await (const message of source.messages(new AbortController().signal)) {
    if (received.push(message) === count) break;
  }
  return received;
}

describe('WebsocketSource', () => {
  it('yields frames in order: JSON parsed, other text as it is, binary as a hex excerpt', async () => {
    feed = await startFeedServer(({ socket }) => {
      send(socket, 1);
      socket.send('{"type":"bid",');
      socket.send(Buffer.from([1, 2, 255]), { binary: true });
      send(socket, 2);
    });
    const source = new WebsocketSource(feedConfig(feed, { token: 's3cret' }), quietLog);

    expect(await first(source, 4)).toEqual([
      heartbeat(1),
      '{"type":"bid",',
      'binary frame of 3 bytes: 0102ff',
      heartbeat(2),
    ]);
    expect(feed.connections.map((c) => [c.url, c.authorization])).toEqual([['/feed', 'Bearer s3cret']]);
  });

  it('reconnects with growing jittered backoff and asks to resume after the last seq', async () => {
    feed = await startFeedServer(({ socket }, index) => {
      if (index === 0) {
        [1, 2, 3].forEach((seq) => send(socket, seq));
        socket.close(1012, 'restarting');
      } else if (index === 1) {
        send(socket, 4);
        // Dropped without a close frame, once seq 5 is on the wire.
        socket.send(JSON.stringify(heartbeat(5)), () => socket.terminate());
      } else send(socket, 6);
    });
    const { log, records } = recordingLog();
    const source = new WebsocketSource(feedConfig(feed, { resumeParam: 'since' }), log, { random: () => 0.5 });

    expect(await first(source, 6)).toEqual([1, 2, 3, 4, 5, 6].map(heartbeat));
    expect(feed.connections.map((c) => c.url)).toEqual(['/feed', '/feed?since=3', '/feed?since=5']);
    const lost = records.filter((r) => r.msg === 'feed connection lost; reconnecting');
    // Half of 500 ms, then half of 1 s: full jitter over a doubling ceiling.
    expect(lost.map((r) => [r.reason, r.retryInMs])).toEqual([
      ['closed by the feed (1012: restarting)', 250],
      ['closed by the feed (1006)', 500],
    ]);
    const [c0, c1, c2] = feed.connections.map((c) => c.openedAt);
    expect(c1! - c0!).toBeGreaterThanOrEqual(250);
    expect(c2! - c1!).toBeGreaterThanOrEqual(500);
  });

  it('treats a connection that sends nothing for silenceTimeoutSec as dead and reconnects', async () => {
    feed = await startFeedServer(({ socket }, index) => {
      if (index === 1) send(socket, 1);
    });
    const { log, records } = recordingLog();
    const source = new WebsocketSource(feedConfig(feed, { silenceTimeoutSec: 0.2 }), log, { random: () => 0 });

    expect(await first(source, 1)).toEqual([heartbeat(1)]);
    expect(feed.connections).toHaveLength(2);
    expect(feed.connections[1]!.openedAt - feed.connections[0]!.openedAt).toBeGreaterThanOrEqual(200);
    expect(records.find((r) => r.msg === 'feed connection lost; reconnecting')?.reason).toMatch(
      /^silent for 2\d\d ms$/,
    );
  });

  it('keeps a connection whose only traffic is heartbeats', async () => {
    feed = await startFeedServer(({ socket }) => {
      let seq = 0;
      const timer = setInterval(() => send(socket, ++seq), 50);
      socket.on('close', () => clearInterval(timer));
    });
    const source = new WebsocketSource(feedConfig(feed, { silenceTimeoutSec: 0.2 }), quietLog);

    expect(await first(source, 12)).toHaveLength(12);
    expect(feed.connections).toHaveLength(1);
  });

  it('pauses the socket while the consumer is behind, loses nothing, and does not take the pause for silence', async () => {
    const total = 50_000;
    const pad = 'x'.repeat(150);
    feed = await startFeedServer(async ({ socket }) => {
      // In slices, as a feed in its own process would not stall this one's event loop.
      for (let seq = 1; seq <= total; seq++) {
        socket.send(JSON.stringify({ type: 'heartbeat', seq, pad }));
        if (seq % 1000 === 0) await new Promise(setImmediate);
      }
    });
    const source = new WebsocketSource(feedConfig(feed, { silenceTimeoutSec: 0.3 }), quietLog, { maxBuffered: 1000 });
    const frameBytes = JSON.stringify({ type: 'heartbeat', seq: total, pad }).length + 4;

    const seqs: number[] = [];
    let unsentDuringStall = 0;
    for await (const message of source.messages(new AbortController().signal)) {
      seqs.push((message as { seq: number }).seq);
      if (seqs.length === 1) {
        await sleep(800);
        unsentDuringStall = feed.connections[0]!.socket.bufferedAmount;
      } else if (seqs.length % 1000 === 0) await sleep(1);
      if (seqs.length === total) break;
    }

    // Had the client kept reading into memory, the server would have sent everything by now (0
    // left); paused, what the kernel buffers cannot hold stays with the server (5.8 of 9.75 MB here).
    expect(unsentDuringStall).toBeGreaterThan((total * frameBytes) / 10);
    expect(seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(feed.connections).toHaveLength(1);
  });

  it('ends the iterator at once on abort and closes the socket as going away (1001)', async () => {
    feed = await startFeedServer(({ socket }) => send(socket, 1));
    const source = new WebsocketSource(feedConfig(feed), quietLog);
    const stop = new AbortController();
    let abortedAt = 0;
    for await (const _ of source.messages(stop.signal)) {
      // Aborted with the socket open and the consumer waiting for more.
      setTimeout(() => {
        abortedAt = Date.now();
        stop.abort();
      }, 20);
    }

    expect(Date.now() - abortedAt).toBeLessThan(50);
    while (feed.connections[0]!.closeCode === undefined) await sleep(5);
    expect(feed.connections[0]!.closeCode).toBe(1001);
  });

  it('ends at once on abort while waiting to reconnect', async () => {
    feed = await startFeedServer(() => undefined);
    const url = feed.url;
    await feed.close();
    feed = undefined;
    const { log, records } = recordingLog();
    const source = new WebsocketSource({ name: 'edge-ws-1', url, silenceTimeoutSec: 5 }, log, { random: () => 0.99 });
    const stop = new AbortController();
    const ended = (async () => {
      for await (const _ of source.messages(stop.signal)) throw new Error('nothing listens there');
      return Date.now();
    })();
    while (!records.some((r) => r.msg === 'feed connection lost; reconnecting')) await sleep(5);

    const abortedAt = Date.now();
    stop.abort();
    expect((await ended) - abortedAt).toBeLessThan(50);
    expect(records.find((r) => r.reason !== undefined)?.reason).toMatch(/ECONNREFUSED/);
  });
});

import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import WebSocket, { type RawData } from 'ws';
import type { Source } from './source';

/** A websocket entry of the collector config, its token resolved. */
export interface WebsocketFeed {
  name: string;
  url: string;
  /** No frame at all (heartbeats and pings count) for this long = the connection is dead. */
  silenceTimeoutSec: number;
  /** Query parameter telling the feed the last `seq` received, so it resends what followed. */
  resumeParam?: string | undefined;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string | undefined;
}

export interface WebsocketSourceOptions {
  /** Messages held for a consumer that is behind before the socket is paused. */
  maxBuffered?: number;
  /** Uniform in [0, 1): the backoff's jitter. */
  random?: () => number;
}

const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/** A connection that lasted this long was healthy: the next outage starts the backoff over. */
const HEALTHY_AFTER_MS = 10_000;
const BINARY_EXCERPT_BYTES = 64;

/**
 * A live platform feed over a websocket: one JSON message per text frame. Reconnects for ever with
 * jittered backoff, asks the feed to resend from the last `seq` it got, treats a silent connection
 * as dead, and pauses the socket while the pipeline is behind instead of dropping or piling up.
 */
export class WebsocketSource implements Source {
  readonly name: string;
  private readonly maxBuffered: number;
  private readonly random: () => number;
  private lastSeq: number | undefined;

  constructor(
    private readonly feed: WebsocketFeed,
    private readonly log: Logger,
    options: WebsocketSourceOptions = {},
  ) {
    this.name = feed.name;
    this.maxBuffered = options.maxBuffered ?? 10_000;
    this.random = options.random ?? Math.random;
  }

  async *messages(signal: AbortSignal): AsyncIterable<unknown> {
    // Also ends the connection loop when the consumer stops pulling early (break, throw).
    const done = new AbortController();
    const stop = AbortSignal.any([signal, done.signal]);
    const inbox = new Inbox(this.maxBuffered, stop);
    const connections = this.keepConnected(inbox, stop);
    try {
      for (let next = await inbox.take(); next !== STOPPED; next = await inbox.take()) yield next;
    } finally {
      done.abort();
      await connections;
    }
  }

  private async keepConnected(inbox: Inbox, stop: AbortSignal): Promise<void> {
    for (let failures = 0; !stop.aborted; failures++) {
      this.log.info({ source: this.name, attempt: failures + 1, since: this.lastSeq }, 'connecting to feed');
      const { openMs, reason } = await this.connect(inbox, stop);
      if (stop.aborted) return;
      if (openMs >= HEALTHY_AFTER_MS) failures = 0;
      const retryInMs = Math.round(this.random() * Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** failures));
      this.log.warn({ source: this.name, reason, retryInMs }, 'feed connection lost; reconnecting');
      await sleep(retryInMs, undefined, { signal: stop }).catch(() => undefined);
    }
  }

  /** One connection from dial to close; resolves at its close, or at once on `stop`. */
  private connect(inbox: Inbox, stop: AbortSignal): Promise<{ openMs: number; reason: string }> {
    const silenceMs = this.feed.silenceTimeoutSec * 1000;
    const ws = new WebSocket(this.url(), {
      headers: this.feed.token === undefined ? {} : { Authorization: `Bearer ${this.feed.token}` },
      handshakeTimeout: silenceMs,
    });
    let openedAt: number | undefined;
    let lastHeard = Date.now();
    let failure: string | undefined;
    let silenceTimer: NodeJS.Timeout | undefined;
    // One timer per silence period rather than one per frame: feeds send thousands a second.
    const checkSilence = (confirming = false) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      const quietMs = Date.now() - Math.max(lastHeard, inbox.resumedAt);
      if (ws.isPaused || quietMs < silenceMs) {
        silenceTimer = setTimeout(checkSilence, ws.isPaused ? silenceMs : silenceMs - quietMs);
      } else if (!confirming) {
        // Judge after reading what is already waiting (setImmediate runs after the I/O phase):
        // an event loop that was busy for a while is not a silent feed.
        setImmediate(() => checkSilence(true));
      } else {
        failure = `silent for ${quietMs} ms`;
        ws.terminate();
      }
    };
    const heard = () => (lastHeard = Date.now());

    ws.on('open', () => {
      openedAt = lastHeard = Date.now();
      inbox.attach(ws);
      silenceTimer = setTimeout(checkSilence, silenceMs);
      this.log.info({ source: this.name }, 'feed connected');
    });
    ws.on('message', (data, isBinary) => {
      heard();
      const message = decode(data, isBinary);
      this.noteSeq(message);
      inbox.push(message);
    });
    ws.on('ping', heard);
    ws.on('pong', heard);
    ws.on('error', (error) => (failure ??= error.message));

    return new Promise((resolve) => {
      const finish = (reason: string) => {
        clearTimeout(silenceTimer);
        stop.removeEventListener('abort', onStop);
        inbox.detach(ws);
        resolve({ openMs: openedAt === undefined ? 0 : Date.now() - openedAt, reason });
      };
      const onStop = () => {
        if (ws.readyState === WebSocket.OPEN) ws.close(1001, 'collector stopping');
        else ws.terminate();
        finish('stopped');
      };
      ws.on('close', (code, why) =>
        finish(failure ?? `closed by the feed (${code}${why.length > 0 ? `: ${why}` : ''})`),
      );
      if (stop.aborted) onStop();
      else stop.addEventListener('abort', onStop, { once: true });
    });
  }

  private url(): string {
    const url = new URL(this.feed.url);
    if (this.feed.resumeParam !== undefined && this.lastSeq !== undefined) {
      url.searchParams.set(this.feed.resumeParam, String(this.lastSeq));
    }
    return url.toString();
  }

  // Counted on arrival, not when pulled: the inbox outlives the connection, so what it holds is
  // not lost and need not be resent.
  private noteSeq(message: unknown): void {
    if (typeof message !== 'object' || message === null || !('seq' in message)) return;
    const seq = message.seq;
    if (Number.isSafeInteger(seq) && (this.lastSeq === undefined || (seq as number) > this.lastSeq)) {
      this.lastSeq = seq as number;
    }
  }
}

const STOPPED = Symbol('stopped');

/**
 * Messages received and not yet pulled. Past `max` the socket is paused (what is already read
 * still comes in: at most one socket read more); it resumes at half, so it does not flap.
 */
class Inbox {
  private items: unknown[] = [];
  private head = 0;
  private wake: (() => void) | undefined;
  private socket: WebSocket | undefined;
  /** When the socket last resumed: a paused socket hears nothing, which is not silence. */
  resumedAt = 0;

  constructor(
    private readonly max: number,
    private readonly stop: AbortSignal,
  ) {
    stop.addEventListener('abort', () => this.wake?.(), { once: true });
  }

  attach(socket: WebSocket): void {
    this.socket = socket;
    if (this.size() >= this.max) socket.pause();
  }

  detach(socket: WebSocket): void {
    if (this.socket === socket) this.socket = undefined;
  }

  push(message: unknown): void {
    this.items.push(message);
    if (this.size() >= this.max) this.socket?.pause();
    this.wake?.();
  }

  /** The next message in arrival order, or STOPPED once the stop signal aborts. */
  async take(): Promise<unknown> {
    while (this.size() === 0 && !this.stop.aborted) await new Promise<void>((resolve) => (this.wake = resolve));
    this.wake = undefined;
    if (this.stop.aborted) return STOPPED;
    const message = this.items[this.head];
    this.items[this.head++] = undefined;
    // Compact now and then instead of shift(), which copies the whole array every time.
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (this.socket?.isPaused === true && this.size() <= this.max / 2) {
      this.resumedAt = Date.now();
      this.socket.resume();
    }
    return message;
  }

  private size(): number {
    return this.items.length - this.head;
  }
}

/** JSON when it parses; otherwise the text itself, for the pipeline to reject with a reason. */
function decode(data: RawData, isBinary: boolean): unknown {
  const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
  if (isBinary) {
    return `binary frame of ${bytes.length} bytes: ${bytes.subarray(0, BINARY_EXCERPT_BYTES).toString('hex')}`;
  }
  const text = bytes.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { parseEvent, type LaneEvent } from '../collector/events';
import { BUS_EVENT_FIELD, streamIdMs } from '../storage/redis';

type StreamReply = [stream: string, entries: [id: string, fields: string[]][]][] | null;

export interface BusOptions {
  stream: string;
  group: string;
  consumer: string;
  /** Entries per read. */
  count: number;
  blockMs: number;
}

/**
 * Consumes the live bus (the collector's Redis stream) through a consumer group and acks each
 * batch after it has been applied. A malformed entry is counted, logged and acked — never retried
 * forever, never blocking the entries behind it.
 */
export class BusConsumer {
  private lastAppliedId: string | null = null;
  rejected = 0;

  constructor(
    private readonly redis: Redis,
    private readonly options: BusOptions,
    private readonly apply: (event: LaneEvent) => void,
    private readonly log: Logger,
  ) {}

  /**
   * The server keeps no checkpoint of its figures yet, so a (re)started server rebuilds them by
   * reading the stream from its start, which holds at least the whole current sale.
   */
  async start(): Promise<void> {
    const { stream, group } = this.options;
    try {
      await this.redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
    } catch (error) {
      if (!String(error).includes('BUSYGROUP')) throw error;
      await this.redis.xgroup('SETID', stream, group, '0');
    }
  }

  /** Reads and applies until `signal` aborts. A lost connection is retried, not fatal. */
  async run(signal: AbortSignal): Promise<void> {
    const { stream, group, consumer, count, blockMs } = this.options;
    while (!signal.aborted) {
      let reply: StreamReply;
      try {
        reply = (await this.redis.xreadgroup(
          'GROUP',
          group,
          consumer,
          'COUNT',
          count,
          'BLOCK',
          blockMs,
          'STREAMS',
          stream,
          '>',
        )) as StreamReply;
      } catch (error) {
        if (signal.aborted) return;
        this.log.warn({ err: error }, 'reading the event stream failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 1000));
        continue;
      }
      const entries = reply?.[0]?.[1] ?? [];
      if (entries.length === 0) continue;
      for (const [id, fields] of entries) this.applyEntry(id, fields);
      await this.redis.xack(stream, group, ...entries.map(([id]) => id));
      this.lastAppliedId = entries[entries.length - 1]?.[0] ?? this.lastAppliedId;
    }
  }

  /** How far the last applied entry trails the newest entry on the stream, in ms. */
  async lagMs(): Promise<number | null> {
    const info = (await this.redis.xinfo('STREAM', this.options.stream)) as unknown[];
    const newest = info[info.indexOf('last-generated-id') + 1];
    if (typeof newest !== 'string' || newest === '0-0') return 0;
    if (this.lastAppliedId === null) return null;
    return Math.max(0, streamIdMs(newest) - streamIdMs(this.lastAppliedId));
  }

  private applyEntry(id: string, fields: string[]): void {
    const at = fields.indexOf(BUS_EVENT_FIELD);
    const raw = at >= 0 ? fields[at + 1] : undefined;
    let parsed: ReturnType<typeof parseEvent>;
    try {
      parsed = parseEvent(JSON.parse(raw ?? ''));
    } catch (error) {
      parsed = { ok: false, reason: `not JSON: ${String(error)}` };
    }
    if (parsed.ok) this.apply(parsed.event);
    else {
      this.rejected++;
      this.log.warn({ entry: id, reason: parsed.reason }, 'skipped a malformed stream entry');
    }
  }
}

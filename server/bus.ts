import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { parseEvent, type LaneEvent } from '../collector/events';
import { busEntryEvents, streamIdMs } from '../storage/redis';

type StreamReply = [stream: string, entries: [id: string, fields: string[]][]][] | null;

export interface BusOptions {
  stream: string;
  /** Entries per read. */
  count: number;
  blockMs: number;
}

/** The stream position before its first entry. */
export const STREAM_START = '0-0';

/**
 * Reads the live bus (the collector's Redis stream, storage/redis.ts) from a position, in order.
 * Every server node reads every entry: each keeps the whole figures, so there is no consumer group
 * to share entries out. The caller owns the position (it goes into the engine checkpoint with the
 * state it produced). A malformed entry or event is counted and logged, never retried forever and
 * never blocking the events around it.
 */
export class BusConsumer {
  private position = STREAM_START;
  rejected = 0;

  constructor(
    private readonly redis: Redis,
    private readonly options: BusOptions,
    /** Called once per entry with its valid events; `position` is the entry's id. */
    private readonly apply: (events: LaneEvent[], position: string) => void,
    private readonly log: Logger,
  ) {}

  /** Where the next read continues: the id of the last entry applied. */
  get lastPosition(): string {
    return this.position;
  }

  /**
   * Reads from just after `position` until `signal` aborts. A lost connection is retried, not fatal.
   * Warns when the stream was trimmed past `position`: events in between are gone from the bus.
   */
  async run(position: string, signal: AbortSignal): Promise<void> {
    this.position = position;
    await this.warnIfTrimmed();
    const { stream, count, blockMs } = this.options;
    while (!signal.aborted) {
      let reply: StreamReply;
      try {
        reply = (await this.redis.xread(
          'COUNT',
          count,
          'BLOCK',
          blockMs,
          'STREAMS',
          stream,
          this.position,
        )) as StreamReply;
      } catch (error) {
        if (signal.aborted) return;
        this.log.warn({ err: error }, 'reading the event stream failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 1000));
        continue;
      }
      for (const [id, fields] of reply?.[0]?.[1] ?? []) {
        this.apply(this.validEvents(id, fields), id);
        this.position = id;
      }
    }
  }

  /** How far the last applied entry trails the newest entry on the stream, in ms. */
  async lagMs(): Promise<number | null> {
    const info = (await this.redis.xinfo('STREAM', this.options.stream)) as unknown[];
    const newest = info[info.indexOf('last-generated-id') + 1];
    if (typeof newest !== 'string' || newest === STREAM_START) return 0;
    if (this.position === STREAM_START) return null;
    return Math.max(0, streamIdMs(newest) - streamIdMs(this.position));
  }

  private validEvents(id: string, fields: string[]): LaneEvent[] {
    let raw: unknown[];
    try {
      raw = busEntryEvents(fields);
    } catch (error) {
      this.reject(id, `unreadable entry: ${String(error)}`);
      return [];
    }
    const events: LaneEvent[] = [];
    for (const candidate of raw) {
      const parsed = parseEvent(candidate);
      if (parsed.ok) events.push(parsed.event);
      else this.reject(id, parsed.reason);
    }
    return events;
  }

  private reject(entry: string, reason: string): void {
    this.rejected++;
    this.log.warn({ entry, reason }, 'skipped a malformed event on the stream');
  }

  private async warnIfTrimmed(): Promise<void> {
    if (this.position === STREAM_START) return;
    // Redis 7 records the newest entry id it deleted; older servers simply skip this check.
    const info = (await this.redis.xinfo('STREAM', this.options.stream).catch(() => [])) as unknown[];
    const at = info.indexOf('max-deleted-entry-id');
    const deleted = at < 0 ? undefined : info[at + 1];
    if (typeof deleted === 'string' && compareIds(deleted, this.position) > 0) {
      this.log.warn(
        { from: this.position, trimmedUpTo: deleted },
        'the stream was trimmed past the checkpoint: events in between are missing from the figures',
      );
    }
  }
}

function compareIds(a: string, b: string): number {
  const [aMs = 0, aSeq = 0] = a.split('-').map(Number);
  const [bMs = 0, bSeq = 0] = b.split('-').map(Number);
  return aMs - bMs || aSeq - bSeq;
}

import type { Redis } from 'ioredis';
import { BUS_BATCH_FIELD, BUS_COUNT_FIELD } from '../../storage/redis';
import type { Batch } from '../spool';
import type { Sink } from './sink';

/**
 * Appends a batch as one entry, once: a marker key per batch id makes a retried batch (after a
 * lost reply, or from the spool after a crash) a no-op instead of a second copy on the stream.
 *
 * Then keeps the stream at most `maxEvents` events long. Entries hold different numbers of events,
 * so Redis' own MAXLEN (which counts entries) cannot say that; a counter key holds the stream's
 * event total, and once it passes the cap by a tenth, whole entries are dropped from the head until
 * it is back under the cap: the trimming cost is spread over the events that caused it.
 *
 * KEYS: stream, batch marker, event counter. ARGV: maxEvents, marker TTL, count, JSON array.
 */
const APPEND_ONCE = `
if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then return 0 end
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('DEL', KEYS[3]) end
redis.call('XADD', KEYS[1], '*', '${BUS_COUNT_FIELD}', ARGV[3], '${BUS_BATCH_FIELD}', ARGV[4])
local total = redis.call('INCRBY', KEYS[3], ARGV[3])
local max = tonumber(ARGV[1])
if total <= max + math.floor(max / 10) then return 1 end
while total > max do
  local entries = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 100)
  if #entries == 0 then break end
  for _, entry in ipairs(entries) do
    if total <= max then break end
    local fields = entry[2]
    for i = 1, #fields, 2 do
      if fields[i] == '${BUS_COUNT_FIELD}' then total = total - tonumber(fields[i + 1]) end
    end
    redis.call('XDEL', KEYS[1], entry[1])
  end
end
redis.call('SET', KEYS[3], total)
return 1
`;

/** How long a written batch's marker is kept: far longer than any retry of it takes. */
const MARKER_TTL_SEC = 3600;

/** The live bus (see storage/redis.ts): every valid event, in batches, on one Redis stream. */
export class RedisStreamSink implements Sink {
  readonly name = 'redis';
  readonly concurrentWrites = 1;

  constructor(
    private readonly redis: Redis,
    private readonly stream: string,
    /** The most events the stream holds; the oldest entries go first. */
    private readonly maxEvents: number,
  ) {
    redis.defineCommand('lanewatchAppendOnce', { numberOfKeys: 3, lua: APPEND_ONCE });
  }

  async write(batch: Batch): Promise<void> {
    await (this.redis as unknown as AppendOnce).lanewatchAppendOnce(
      this.stream,
      `${this.stream}:batch:${batch.id}`,
      `${this.stream}:events`,
      this.maxEvents,
      MARKER_TTL_SEC,
      batch.events.length,
      JSON.stringify(batch.events),
    );
  }

  async close(): Promise<void> {
    await this.redis.quit();
  }
}

interface AppendOnce {
  lanewatchAppendOnce(...args: (string | number)[]): Promise<number>;
}

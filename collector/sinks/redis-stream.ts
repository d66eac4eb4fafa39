import type { Redis } from 'ioredis';
import { BUS_EVENT_FIELD } from '../../storage/redis';
import type { Batch } from '../spool';
import type { Sink } from './sink';

/**
 * Appends a whole batch atomically, once: a marker key per batch id makes a retried batch (after a
 * lost reply, or from the spool after a crash) a no-op instead of a second copy on the stream.
 */
const APPEND_ONCE = `
if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then return 0 end
for i = 3, #ARGV do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', '${BUS_EVENT_FIELD}', ARGV[i])
end
return #ARGV - 2
`;

/** How long a written batch's marker is kept: far longer than any retry of it takes. */
const MARKER_TTL_SEC = 3600;

/**
 * The live bus: every valid event appended to one Redis stream, trimmed approximately (`MAXLEN ~`,
 * which lets Redis drop whole nodes cheaply) to a length that still holds at least a whole sale.
 */
export class RedisStreamSink implements Sink {
  readonly name = 'redis';

  constructor(
    private readonly redis: Redis,
    private readonly stream: string,
    private readonly maxLen: number,
  ) {
    redis.defineCommand('lanewatchAppendOnce', { numberOfKeys: 2, lua: APPEND_ONCE });
  }

  async write(batch: Batch): Promise<void> {
    const args = [this.stream, `${this.stream}:batch:${batch.id}`, this.maxLen, MARKER_TTL_SEC];
    await (this.redis as unknown as AppendOnce).lanewatchAppendOnce(
      ...args,
      ...batch.events.map((e) => JSON.stringify(e)),
    );
  }

  async close(): Promise<void> {
    await this.redis.quit();
  }
}

interface AppendOnce {
  lanewatchAppendOnce(...args: (string | number)[]): Promise<number>;
}

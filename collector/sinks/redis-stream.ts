import type { Redis } from 'ioredis';
import type { LaneEvent } from '../events';
import { BUS_EVENT_FIELD } from '../../storage/redis';
import type { Sink } from './sink';

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
  ) {}

  async write(batch: readonly LaneEvent[]): Promise<void> {
    const pipeline = this.redis.pipeline();
    for (const event of batch) {
      pipeline.xadd(this.stream, 'MAXLEN', '~', this.maxLen, '*', BUS_EVENT_FIELD, JSON.stringify(event));
    }
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([error]) => error !== null);
    if (failed) throw new Error(`Redis XADD failed: ${failed[0]?.message}`, { cause: failed[0] });
  }

  async close(): Promise<void> {
    await this.redis.quit();
  }
}

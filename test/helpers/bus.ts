import type { LaneEvent } from '../../collector/events';
import { busEntryEvents, connectRedis } from '../../storage/redis';

/** Every event on a live-bus stream, in stream order. */
export async function busEvents(redisUrl: string, stream: string): Promise<LaneEvent[]> {
  const redis = connectRedis(redisUrl, 'lanewatch-test-reader');
  try {
    const entries = await redis.xrange(stream, '-', '+');
    return entries.flatMap(([, fields]) => busEntryEvents(fields) as LaneEvent[]);
  } finally {
    await redis.quit();
  }
}

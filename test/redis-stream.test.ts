/** The live-bus sink on the real Redis: one entry per batch, appended once, trimmed by event count. */
import { afterAll, describe, expect, it } from 'vitest';
import type { LaneEvent } from '../collector/events';
import { RedisStreamSink } from '../collector/sinks/redis-stream';
import { connectRedis } from '../storage/redis';
import { busEvents } from './helpers/bus';
import { isolatedConfig } from './helpers/stores';

const config = isolatedConfig();
const stream = config.redis.stream;
const redis = connectRedis(config.redis.url, 'redis-stream-test');

function attendance(i: number): LaneEvent {
  return {
    id: `a-${i}`,
    type: 'attendance',
    ts: 1_795_000_000_000 + i,
    source: 's',
    auction: 'a',
    sale: 's',
    lane: '1',
    online: i,
  };
}

function batch(id: string, from: number, count: number) {
  return { id, events: Array.from({ length: count }, (_, k) => attendance(from + k)) };
}

afterAll(async () => {
  const markers = await redis.keys(`${stream}:*`);
  await redis.del(stream, ...markers);
  await redis.quit();
});

describe('RedisStreamSink', () => {
  it('appends a batch as one entry, and a retried batch not at all', async () => {
    const sink = new RedisStreamSink(redis, stream, 1000);
    await sink.write(batch('b1', 0, 3));
    await sink.write(batch('b1', 0, 3));
    await sink.write(batch('b2', 3, 2));
    expect(await redis.xlen(stream)).toBe(2);
    expect((await busEvents(config.redis.url, stream)).map((e) => e.id)).toEqual(['a-0', 'a-1', 'a-2', 'a-3', 'a-4']);
  });

  it('keeps at most the cap in events, dropping whole entries from the oldest, trimming in steps', async () => {
    await redis.del(stream, `${stream}:events`);
    const sink = new RedisStreamSink(redis, stream, 100);
    const sizes = [7, 30, 1, 45, 12, 9, 60, 3, 25, 18];
    let next = 0;
    const totals: number[] = [];
    for (const [i, size] of sizes.entries()) {
      await sink.write(batch(`t${i}`, next, size));
      next += size;
      totals.push((await busEvents(config.redis.url, stream)).length);
    }
    // Appends grow the stream until it passes the cap by a tenth (110); then whole entries go,
    // oldest first, until it is at most 100: 164 − 7 − 30 − 1 − 45 = 81, 127 − 12 − 9 − 60 = 46.
    expect(totals).toEqual([7, 37, 38, 83, 95, 104, 81, 84, 109, 46]);
    const kept = await busEvents(config.redis.url, stream);
    // Whatever was dropped, what is left is the newest events, in order, ending with the last one.
    expect(kept.at(-1)?.id).toBe(`a-${next - 1}`);
    const numbers = kept.map((e) => Number(e.id.slice(2)));
    expect(numbers).toEqual(numbers.map((_, i) => next - kept.length + i));
    expect(Number(await redis.get(`${stream}:events`))).toBe(kept.length);
  });
});

import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** The field of each live-bus stream entry that holds the JSON contract event. */
export const BUS_EVENT_FIELD = 'e';

/**
 * A Redis connection that keeps reconnecting in the background (ioredis' default) but fails
 * commands fast while disconnected, so callers see an outage as an error they can retry or spool,
 * not a hang. An outage is logged once when it starts and once when it ends, not per attempt.
 */
export function connectRedis(url: string, name: string, log?: Logger): Redis {
  const redis = new Redis(url, { connectionName: name, maxRetriesPerRequest: 1, enableOfflineQueue: true });
  let down = false;
  redis.on('error', (error: Error) => {
    if (!down) log?.warn({ err: error, redis: name }, 'Redis connection lost; reconnecting');
    down = true;
  });
  redis.on('ready', () => {
    if (down) log?.info({ redis: name }, 'Redis connection back');
    down = false;
  });
  return redis;
}

/** The ms part of a stream entry id (`1700000000000-0`): when Redis appended the entry. */
export function streamIdMs(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}

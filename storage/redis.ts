import { Redis } from 'ioredis';

/** The field of each live-bus stream entry that holds the JSON contract event. */
export const BUS_EVENT_FIELD = 'e';

/**
 * A Redis connection that keeps retrying in the background (ioredis' default) but fails commands
 * fast while disconnected, so callers see an outage as an error they can retry, not a hang.
 */
export function connectRedis(url: string, name: string): Redis {
  return new Redis(url, { connectionName: name, maxRetriesPerRequest: 1, enableOfflineQueue: true });
}

/** The ms part of a stream entry id (`1700000000000-0`): when Redis appended the entry. */
export function streamIdMs(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}

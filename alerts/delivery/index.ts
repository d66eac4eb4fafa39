/**
 * Delivery to phones and webhooks, wired from the config: the server calls `queue.enqueue` with
 * every alert transition and `queue.acknowledge` on every acknowledgement (on every node), starts
 * `dispatcher` (every node; the lease picks the one that sends), mounts `routes` under `/api`.
 */
import type { Redis } from 'ioredis';
import type { Router } from 'express';
import type { Logger } from 'pino';
import type { NotifyConfig } from '../../config';
import { buildNotifiers } from '../notify';
import { PushStore } from '../notify/push-store';
import { pushRoutes } from '../notify/push-routes';
import { DeliveryDispatcher } from './dispatcher';
import { DEFAULT_POLICY } from './policy';
import { DeliveryQueue } from './queue';

export interface Delivery {
  queue: DeliveryQueue;
  dispatcher: DeliveryDispatcher;
  push: PushStore;
  /** `GET /push/vapid-public-key`, `POST` and `DELETE /push/subscriptions`. */
  routes: Router;
}

/** `prefix` roots the Redis keys (queue, lease, subscriptions), so two installations can share a Redis. */
export function createDelivery(config: NotifyConfig, redis: Redis, log: Logger, prefix = 'lanewatch'): Delivery {
  const push = new PushStore(redis, `${prefix}:push`);
  const policy = {
    ...DEFAULT_POLICY,
    escalateAfterMs: config.escalation === undefined ? undefined : config.escalation.afterMin * 60_000,
  };
  return {
    queue: new DeliveryQueue(redis, `${prefix}:delivery`),
    dispatcher: new DeliveryDispatcher(redis, buildNotifiers(config, { push }), {
      policy,
      log,
      prefix: `${prefix}:delivery`,
    }),
    push,
    routes: pushRoutes(push),
  };
}

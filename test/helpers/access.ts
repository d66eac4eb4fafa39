/**
 * Credentials for tests of a server running on `config`: tokens and users made with the server's
 * own store in the same Redis, as `npm run access` would.
 */
import type { Config } from '../../config';
import type { Role } from '../../server/access/roles';
import type { AppAccess } from '../../server/app';
import { AccessStore } from '../../server/access/store';
import { connectRedis } from '../../storage/redis';

export async function withAccessStore<T>(config: Config, work: (store: AccessStore) => Promise<T>): Promise<T> {
  const redis = connectRedis(config.redis.url, 'lanewatch-test-access');
  try {
    return await work(new AccessStore(redis, config.redis.stream, config.access.sessionTtlSec));
  } finally {
    await redis.quit();
  }
}

/** A fresh access token of `role`. */
export function grantToken(config: Config, role: Role, name = `test ${role}`): Promise<string> {
  return withAccessStore(config, async (store) => (await store.createToken(name, role, 'test')).token);
}

/** `fetch` options that present `token`, merged with `init`. */
export function withToken(token: string, init: RequestInit = {}): RequestInit {
  return { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` } };
}

/**
 * For tests that build the app themselves (`createApp`): the real access control on `config`'s
 * Redis and a token of `role` to call it with. `close` when done.
 */
export async function appAccess(
  config: Config,
  role: Role = 'viewer',
): Promise<{ access: AppAccess; token: string; close(): Promise<void> }> {
  const redis = connectRedis(config.redis.url, 'lanewatch-test-app-access');
  const store = new AccessStore(redis, config.redis.stream, config.access.sessionTtlSec);
  const { token } = await store.createToken(`test ${role}`, role, 'test');
  return {
    access: { ...config.access, store },
    token,
    async close() {
      const keys = await redis.keys(`${config.redis.stream}:access:*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    },
  };
}

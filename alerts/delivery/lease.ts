/**
 * A Redis lease: the one node holding it sends notifications. Its value is the holder's token and
 * it expires unless renewed, so a crashed holder's lease lapses and another node takes it. Writes
 * the holder makes to shared state go through `setIfHeld`, so a node that lost the lease (paused
 * past its expiry) cannot overwrite what the new holder wrote.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/** KEYS: lease. ARGV: token, ttl ms. Takes a free lease or extends our own; 1 = held. */
const CLAIM = `
local holder = redis.call('GET', KEYS[1])
if holder == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`;

/** KEYS: lease. ARGV: token. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** KEYS: lease, key. ARGV: token, value. */
const SET_IF_HELD = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
return 1
`;

type LeaseCommands = {
  lanewatchLeaseClaim(lease: string, token: string, ttlMs: number): Promise<number>;
  lanewatchLeaseRelease(lease: string, token: string): Promise<number>;
  lanewatchSetIfHeld(lease: string, key: string, token: string, value: string): Promise<number>;
};

export class Lease {
  readonly token = randomUUID();
  /** performance.now() until which the lease is surely ours (measured from before the claim was sent). */
  private validUntil = -Infinity;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly ttlMs: number,
  ) {
    redis.defineCommand('lanewatchLeaseClaim', { numberOfKeys: 1, lua: CLAIM });
    redis.defineCommand('lanewatchLeaseRelease', { numberOfKeys: 1, lua: RELEASE });
    redis.defineCommand('lanewatchSetIfHeld', { numberOfKeys: 2, lua: SET_IF_HELD });
  }

  private get commands(): LeaseCommands {
    return this.redis as unknown as LeaseCommands;
  }

  /** Takes the lease if free, renews it if ours; false when another node holds it. */
  async claim(): Promise<boolean> {
    const sentAt = performance.now();
    const held = (await this.commands.lanewatchLeaseClaim(this.key, this.token, this.ttlMs)) === 1;
    this.validUntil = held ? sentAt + this.ttlMs : -Infinity;
    return held;
  }

  /**
   * True while the last successful claim stays valid for at least `forMs` more: checked before
   * every send with the send's timeout, so a send never outlasts the lease it started under.
   */
  held(forMs = 0): boolean {
    return performance.now() + forMs < this.validUntil;
  }

  async release(): Promise<void> {
    this.validUntil = -Infinity;
    await this.commands.lanewatchLeaseRelease(this.key, this.token);
  }

  /** SET key value, only while we hold the lease; false (and nothing written) when we do not. */
  async setIfHeld(key: string, value: string): Promise<boolean> {
    const written = (await this.commands.lanewatchSetIfHeld(this.key, key, this.token, value)) === 1;
    if (!written) this.validUntil = -Infinity;
    return written;
  }
}

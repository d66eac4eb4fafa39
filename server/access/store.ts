/**
 * Users, sessions and access tokens, in Redis so every server node knows them:
 * - `<prefix>:access:users` hash: user name → { role, passwordHash, passwordSetAt, createdAt };
 * - `<prefix>:access:tokens` hash: SHA-256 of a token → { id, name, role, createdAt, createdBy };
 * - `<prefix>:access:session:<SHA-256 of its cookie>` → the user name and when their password was
 *   set, expiring on its own: a new password ends the sessions opened with the old one.
 * Tokens and session ids are 256-bit random values, so a plain SHA-256 of them is safe to store
 * (no KDF needed, unlike passwords): whoever reads Redis cannot use what they find there.
 * A session's role is read from its user at each request, so removing a user or changing their
 * role takes effect at once; and every change that ends a credential is published on
 * `<prefix>:access:ended` (whichever process made it, the CLI included), for the server nodes to
 * close the sockets it opened.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { hashPassword, verifyPassword } from './passwords';
import { isRole, type Principal, type Role } from './roles';

export interface UserInfo {
  name: string;
  role: Role;
  createdAt: number;
}

interface StoredUser extends UserInfo {
  passwordHash: string;
  passwordSetAt: number;
}

/** What a session holds: whose it is, and which of their passwords opened it. */
const storedSessionSchema = z.object({ name: z.string(), passwordSetAt: z.number() });
type StoredSession = z.infer<typeof storedSessionSchema>;

export interface TokenInfo {
  /** Short public handle to list and revoke the token by; not the token. */
  id: string;
  /** What holds it, e.g. "control-room TV". */
  name: string;
  role: Role;
  createdAt: number;
  createdBy: string;
}

const TOKEN_PREFIX = 'lw_';
/** A name shows in logs and alert history: keep it printable and short. */
const NAME = /^[\p{L}\p{N}][\p{L}\p{N} ._@'-]{0,63}$/u;

export class AccessStore {
  private readonly keys: { users: string; tokens: string; session: (digest: string) => string; ended: string };

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly sessionTtlSec: number,
  ) {
    this.keys = {
      users: `${prefix}:access:users`,
      tokens: `${prefix}:access:tokens`,
      session: (digest) => `${prefix}:access:session:${digest}`,
      ended: endedChannel(prefix),
    };
  }

  /**
   * Adds a user, or replaces their role and password when they exist — a reset after a leak: the
   * sessions opened with the old password end.
   */
  async saveUser(name: string, role: Role, password: string): Promise<UserInfo> {
    checkName(name);
    if (password.length < 10) throw new AccessError('a password needs at least 10 characters');
    const existing = await this.user(name);
    const now = Date.now();
    const user: StoredUser = {
      name,
      role,
      createdAt: existing?.createdAt ?? now,
      passwordHash: await hashPassword(password),
      // Never the same as the old one, so no session of the old password matches it.
      passwordSetAt: Math.max(now, (existing?.passwordSetAt ?? 0) + 1),
    };
    await this.redis.hset(this.keys.users, name, JSON.stringify(user));
    if (existing) await this.ended(`user:${name}`);
    return publicUser(user);
  }

  async setRole(name: string, role: Role): Promise<UserInfo | undefined> {
    const user = await this.user(name);
    if (!user) return undefined;
    user.role = role;
    await this.redis.hset(this.keys.users, name, JSON.stringify(user));
    await this.ended(`user:${name}`);
    return publicUser(user);
  }

  /** True when the user existed. Their sessions stop working at once (they name a user no more). */
  async removeUser(name: string): Promise<boolean> {
    const removed = (await this.redis.hdel(this.keys.users, name)) === 1;
    if (removed) await this.ended(`user:${name}`);
    return removed;
  }

  async users(): Promise<UserInfo[]> {
    const all = await this.redis.hvals(this.keys.users);
    return all.map((json) => publicUser(JSON.parse(json) as StoredUser)).sort((a, b) => a.name.localeCompare(b.name));
  }

  async hasUsers(): Promise<boolean> {
    return (await this.redis.hlen(this.keys.users)) > 0;
  }

  /** Checks a login; on success returns a new session id for the cookie. */
  async login(name: string, password: string): Promise<{ session: string; user: UserInfo } | undefined> {
    const user = await this.user(name);
    // A missing user costs the same hash as a wrong password, so timing does not tell them apart.
    const passwordHash = user?.passwordHash ?? (await hashPassword('no such user'));
    if (!(await verifyPassword(password, passwordHash)) || !user) return undefined;
    const session = randomBytes(32).toString('base64url');
    const stored: StoredSession = { name: user.name, passwordSetAt: user.passwordSetAt };
    await this.redis.set(this.keys.session(digest(session)), JSON.stringify(stored), 'EX', this.sessionTtlSec);
    return { session, user: publicUser(user) };
  }

  async logout(session: string): Promise<void> {
    await this.redis.del(this.keys.session(digest(session)));
    await this.ended(`session:${digest(session)}`);
  }

  async sessionPrincipal(session: string): Promise<Principal | undefined> {
    const hashed = digest(session);
    const json = await this.redis.get(this.keys.session(hashed));
    const stored = json === null ? undefined : storedSession(json);
    const user = stored && (await this.user(stored.name));
    if (!user || user.passwordSetAt !== stored?.passwordSetAt) return undefined;
    return { name: user.name, role: user.role, via: 'session', holders: [`session:${hashed}`, `user:${user.name}`] };
  }

  /** Makes a token; the token itself is returned once and never stored. */
  async createToken(name: string, role: Role, createdBy: string): Promise<{ token: string; info: TokenInfo }> {
    checkName(name);
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const hashed = digest(token);
    const info: TokenInfo = { id: hashed.slice(0, 12), name, role, createdAt: Date.now(), createdBy };
    await this.redis.hset(this.keys.tokens, hashed, JSON.stringify(info));
    return { token, info };
  }

  async tokens(): Promise<TokenInfo[]> {
    const all = await this.redis.hvals(this.keys.tokens);
    return all.map((json) => JSON.parse(json) as TokenInfo).sort((a, b) => a.createdAt - b.createdAt);
  }

  /** True when a token had that id; it stops working at once. */
  async revokeToken(id: string): Promise<boolean> {
    const hashes = await this.redis.hkeys(this.keys.tokens);
    const hashed = hashes.find((hash) => hash.startsWith(id) && id.length === 12);
    if (hashed === undefined || (await this.redis.hdel(this.keys.tokens, hashed)) === 0) return false;
    await this.ended(`token:${id}`);
    return true;
  }

  async tokenPrincipal(token: string): Promise<Principal | undefined> {
    if (!token.startsWith(TOKEN_PREFIX)) return undefined;
    const json = await this.redis.hget(this.keys.tokens, digest(token));
    if (json === null) return undefined;
    const info = JSON.parse(json) as TokenInfo;
    return { name: info.name, role: info.role, via: 'token', holders: [`token:${info.id}`] };
  }

  private async ended(holder: string): Promise<void> {
    await this.redis.publish(this.keys.ended, holder);
  }

  private async user(name: string): Promise<StoredUser | undefined> {
    const json = await this.redis.hget(this.keys.users, name);
    if (json === null) return undefined;
    const user = JSON.parse(json) as StoredUser;
    // Users saved before passwords were dated: their first password.
    user.passwordSetAt ??= 0;
    return isRole(user.role) ? user : undefined;
  }
}

/** The Redis channel on which ended credentials are announced (one holder per message). */
export function endedChannel(prefix: string): string {
  return `${prefix}:access:ended`;
}

/** A request the store refuses for what it asks (a bad name, a short password): the caller's fault. */
export class AccessError extends Error {
  override name = 'AccessError';
}

function checkName(name: string): void {
  if (!NAME.test(name)) {
    throw new AccessError("a name is 1–64 letters, digits, spaces or . _ @ ' - and starts with a letter or digit");
  }
}

/** A session of an older build (the bare user name) reads as none: its user logs in again. */
function storedSession(json: string): StoredSession | undefined {
  try {
    return storedSessionSchema.parse(JSON.parse(json));
  } catch {
    return undefined;
  }
}

function digest(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

function publicUser({ name, role, createdAt }: StoredUser): UserInfo {
  return { name, role, createdAt };
}

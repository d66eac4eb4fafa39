/**
 * All configuration, read from the environment once at start-up and validated here.
 * Nothing else in the project reads `process.env`: processes call `loadConfig()` and pass
 * the typed sections down.
 */
import fs from 'node:fs';
import { z } from 'zod';

// 0 = any free port (tests).
const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().min(1);

const envSchema = z.object({
  PORT: port.default(8080),
  COLLECTOR_PORT: port.default(8090),
  /** Loopback by default: put a TLS reverse proxy in front of webhooks from other machines. */
  COLLECTOR_HOST: z.string().min(1).default('127.0.0.1'),
  /** JSON file listing the collector's sources (see README); without it, the simulator alone. */
  COLLECTOR_CONFIG: z.string().optional(),
  /** Where accepted events wait on disk while a store is unreachable, and how large that may grow. */
  SPOOL_DIR: z.string().min(1).default('.lanewatch/spool'),
  SPOOL_MAX_MB: positiveInt.default(1024),
  /** Largest webhook request body. */
  INGEST_MAX_BYTES: positiveInt.default(5 * 1024 * 1024),
  /** How often the collector publishes its sources' status to Redis for the server's admins. */
  COLLECTOR_STATUS_EVERY_SEC: z.coerce.number().positive().default(5),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  INFLUX_URL: z.url().default('http://127.0.0.1:8086'),
  INFLUX_DB: z.string().min(1).default('lanewatch'),
  /** Retention policy (1.x) — with INFLUX_DB it names the 2.x/3.x bucket as `db/rp`. */
  INFLUX_RP: z.string().optional(),
  INFLUX_TOKEN: z.string().optional(),
  INFLUX_ORG: z.string().optional(),
  /**
   * Which write endpoint to use. `v1` = `/write?db=` (InfluxDB 1.x, and 2.x/3.x compatibility);
   * `v2` = `/api/v2/write` (1.8+, 2.x, 3.x); `auto` asks `/ping` for the server's version.
   */
  INFLUX_API: z.enum(['auto', 'v1', 'v2']).default('auto'),
  /**
   * Gzip write bodies. It saves bandwidth to a remote or cloud InfluxDB, but on loopback it only
   * costs CPU on both ends (a third of the collector's, measured); `auto` = on unless loopback.
   */
  INFLUX_GZIP: z.enum(['auto', 'on', 'off']).default('auto'),

  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .default('redis://127.0.0.1:6379'),
  REDIS_STREAM: z.string().min(1).default('lanewatch:events'),
  /**
   * Must hold a whole sale, since a restarted server rebuilds its figures from the stream. A lane
   * makes ~2,150 events an hour: 48 lanes × 8 h ≈ 0.9 M, 64 lanes × 10 h ≈ 1.4 M (~250 B each).
   */
  REDIS_STREAM_MAXLEN: positiveInt.default(1_500_000),

  /** A lane whose newest event is older than this (event time) is shown as stale. */
  STALE_AFTER_SEC: positiveInt.default(15),
  /**
   * Events up to this many seconds late (event time) are still applied in `ts` order; the live
   * figures trail the newest event by as much. Later ones are counted and applied as they come.
   */
  LATE_EVENT_SEC: z.coerce.number().min(0).max(300).default(2),
  /** How often the server saves its figures to Redis, so a restart resumes instead of replaying. */
  CHECKPOINT_EVERY_SEC: positiveInt.default(5),
  /**
   * A sale no event has touched for this long leaves the server's memory (and its checkpoint and
   * alert state); its final summary stays in InfluxDB. Bounds memory on a server that runs for weeks.
   */
  SALE_RETIRE_AFTER_MIN: z.coerce
    .number()
    .positive()
    .default(24 * 60),

  SIM_SEED: z.coerce.number().int().default(1),
  SIM_LANES: z.coerce.number().int().min(1).max(64).default(8),
  SIM_DURATION_MIN: positiveInt.default(240),
  /** Simulated seconds per wall-clock second; 0 = as fast as possible. */
  SIM_SPEED: z.coerce.number().min(0).default(60),
  SIM_AUCTION: z.string().min(1).default('dallas'),
  /** ISO time of the sale's open; defaults to now. */
  SIM_START: z.iso.datetime({ offset: true }).optional(),

  /** How long a login lasts; a sale day and then some. */
  SESSION_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 30)
    .default(12),
  /**
   * Other origins (`https://ops.example.com`, comma-separated) whose pages may call the API and
   * open sockets with the user's login. None by default: only the server's own pages can.
   */
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((list) =>
      list
        .split(',')
        .map((origin) => origin.trim())
        .filter((origin) => origin !== ''),
    )
    .pipe(z.array(z.url({ message: 'must be origins like https://ops.example.com' }))),
  /** Behind a reverse proxy: express's `trust proxy` (e.g. `1` or `loopback`), so HTTPS and client addresses are seen. */
  TRUST_PROXY: z.string().optional(),

  /** JSON file listing the alert channels (Web Push, webhooks) and escalation (see README); without it, Web Push alone. */
  NOTIFY_CONFIG: z.string().optional(),
  /** JSON file of alert thresholds (see alerts/rules.json); managers can change them later through the API. */
  ALERT_RULES: z.string().optional(),
});

export type Env = z.input<typeof envSchema>;

export interface InfluxConfig {
  url: string;
  database: string;
  retentionPolicy: string | undefined;
  token: string | undefined;
  org: string | undefined;
  api: 'auto' | 'v1' | 'v2';
  gzip: boolean;
}

export interface RedisConfig {
  url: string;
  stream: string;
  streamMaxLen: number;
}

export interface SimulatorConfig {
  seed: number;
  lanes: number;
  durationMin: number;
  speed: number;
  auction: string;
  start: number | undefined;
}

const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'must be 1–63 lower-case letters, digits, dots, dashes or underscores');
/** A secret is never written in the file itself: `env:NAME` names the variable that holds it. */
const secretRef = z.string().regex(/^env:[A-Za-z_][A-Za-z0-9_]*$/, 'must be env:VARIABLE_NAME');
/** A shipped mapping by name (collector/mappings/<name>.json) or a path to a mapping file. */
const mappingRef = z.string().min(1);

const sourceSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('simulator'), name: name.default('simulator') }),
  z.object({
    type: z.literal('websocket'),
    name,
    url: z.url({ protocol: /^wss?$/, error: 'must be a ws:// or wss:// URL' }),
    mapping: mappingRef.optional(),
    /** No message (heartbeats included) for this long = the connection is dead: reconnect. */
    silenceTimeoutSec: positiveInt.default(30),
    /** Query parameter that tells the feed the last seq received, so it resends from there. */
    resumeParam: z.string().min(1).optional(),
    token: secretRef.optional(),
  }),
  z.object({
    type: z.literal('webhook'),
    name,
    mapping: mappingRef.optional(),
    /** `bearer`: Authorization: Bearer <secret>. `hmac`: X-Lanewatch-Signature over timestamp + body. */
    auth: z.object({ scheme: z.enum(['bearer', 'hmac']), secret: secretRef }),
  }),
  z.object({
    type: z.literal('replay'),
    name,
    file: z.string().min(1),
    mapping: mappingRef.optional(),
    speed: z.number().min(0).default(0),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
  }),
]);

const collectorFileSchema = z.object({ sources: z.array(sourceSchema).min(1) }).strict();

const channelSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('webpush'),
    name: name.default('phones'),
    /** Who runs this server, for the push services (VAPID `sub`): `mailto:` or an https URL. */
    subject: z.string().regex(/^(mailto:|https:\/\/)\S+$/, 'must be a mailto: or https:// URL'),
  }),
  z.object({
    type: z.literal('webhook'),
    name,
    /** The URL holds the credential (Slack's does), so it comes from the environment. */
    url: secretRef,
    /** `slack`: `{ text, blocks }` (Slack, Mattermost, Rocket.Chat); `json`: the notification itself. */
    format: z.enum(['slack', 'json']).default('json'),
  }),
]);

const notifyFileSchema = z
  .object({
    channels: z.array(channelSchema).min(1),
    /** Channels named here get only what nobody acknowledged within `afterMin` (and its resolve). */
    escalation: z
      .object({ afterMin: positiveInt, channels: z.array(name).min(1) })
      .strict()
      .optional(),
  })
  .strict();

type SourceEntry = z.infer<typeof sourceSchema>;
/** A configured source with its secrets resolved from the environment. */
export type SourceConfig =
  | Exclude<SourceEntry, { type: 'websocket' | 'webhook' }>
  | (Omit<Extract<SourceEntry, { type: 'websocket' }>, 'token'> & { token: string | undefined })
  | (Omit<Extract<SourceEntry, { type: 'webhook' }>, 'auth'> & { auth: { scheme: 'bearer' | 'hmac'; secret: string } });

type ChannelEntry = z.infer<typeof channelSchema>;
/** A configured alert channel with its secrets resolved from the environment. */
export type ChannelConfig =
  | Exclude<ChannelEntry, { type: 'webhook' }>
  | (Extract<ChannelEntry, { type: 'webhook' }> & {
      url: string;
    });

export interface NotifyConfig {
  channels: ChannelConfig[];
  /** Unacknowledged firing alerts go to these channels after `afterMin`; they get nothing else. */
  escalation: { afterMin: number; channels: string[] } | undefined;
}

/** Without NOTIFY_CONFIG: every subscribed phone, nothing else. */
const DEFAULT_NOTIFY: NotifyConfig = {
  channels: [{ type: 'webpush', name: 'phones', subject: 'mailto:lanewatch@localhost' }],
  escalation: undefined,
};

export interface CollectorConfig {
  port: number;
  host: string;
  sources: SourceConfig[];
  spool: { dir: string; maxBytes: number };
  ingestMaxBytes: number;
  /** How often the sources' status goes to Redis; the server calls a source stale after 3 missed. */
  statusEveryMs: number;
}

export interface Config {
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  influx: InfluxConfig;
  redis: RedisConfig;
  server: {
    port: number;
    staleAfterSec: number;
    lateEventSec: number;
    checkpointEverySec: number;
    retireSaleAfterMs: number;
  };
  access: { sessionTtlSec: number; corsOrigins: string[]; trustProxy: string | number | undefined };
  collector: CollectorConfig;
  simulator: SimulatorConfig;
  notify: NotifyConfig;
  alerts: { rulesFile: string | undefined };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment; throws a ConfigError naming every bad key. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(withoutEmpty(env));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration — ${problems.join('; ')}`);
  }
  const e = parsed.data;
  return {
    logLevel: e.LOG_LEVEL,
    influx: {
      url: e.INFLUX_URL.replace(/\/+$/, ''),
      database: e.INFLUX_DB,
      retentionPolicy: e.INFLUX_RP,
      token: e.INFLUX_TOKEN,
      org: e.INFLUX_ORG,
      api: e.INFLUX_API,
      gzip: e.INFLUX_GZIP === 'auto' ? !isLoopback(e.INFLUX_URL) : e.INFLUX_GZIP === 'on',
    },
    redis: {
      url: e.REDIS_URL,
      stream: e.REDIS_STREAM,
      streamMaxLen: e.REDIS_STREAM_MAXLEN,
    },
    server: {
      port: e.PORT,
      staleAfterSec: e.STALE_AFTER_SEC,
      lateEventSec: e.LATE_EVENT_SEC,
      checkpointEverySec: e.CHECKPOINT_EVERY_SEC,
      retireSaleAfterMs: e.SALE_RETIRE_AFTER_MIN * 60_000,
    },
    collector: {
      port: e.COLLECTOR_PORT,
      host: e.COLLECTOR_HOST,
      sources:
        e.COLLECTOR_CONFIG === undefined
          ? [{ type: 'simulator', name: 'simulator' }]
          : readSources(e.COLLECTOR_CONFIG, env),
      spool: { dir: e.SPOOL_DIR, maxBytes: e.SPOOL_MAX_MB * 1024 * 1024 },
      ingestMaxBytes: e.INGEST_MAX_BYTES,
      statusEveryMs: e.COLLECTOR_STATUS_EVERY_SEC * 1000,
    },
    simulator: {
      seed: e.SIM_SEED,
      lanes: e.SIM_LANES,
      durationMin: e.SIM_DURATION_MIN,
      speed: e.SIM_SPEED,
      auction: e.SIM_AUCTION,
      start: e.SIM_START === undefined ? undefined : Date.parse(e.SIM_START),
    },
    access: {
      sessionTtlSec: Math.round(e.SESSION_HOURS * 3600),
      corsOrigins: e.CORS_ORIGINS,
      trustProxy: e.TRUST_PROXY !== undefined && /^\d+$/.test(e.TRUST_PROXY) ? Number(e.TRUST_PROXY) : e.TRUST_PROXY,
    },
    notify: e.NOTIFY_CONFIG === undefined ? DEFAULT_NOTIFY : readNotify(e.NOTIFY_CONFIG, env),
    alerts: { rulesFile: e.ALERT_RULES },
  };
}

/** Reads and validates the JSON file a variable names; a ConfigError says which key is wrong. */
function readConfigFile<S extends z.ZodType>(variable: string, what: string, file: string, schema: S): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${variable}: cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid ${what} ${file} — ${problems.join('; ')}`);
  }
  return parsed.data;
}

function readSources(file: string, env: Record<string, string | undefined>): SourceConfig[] {
  const { sources } = readConfigFile('COLLECTOR_CONFIG', 'collector config', file, collectorFileSchema);
  const names = new Set<string>();
  return sources.map((source, i) => {
    if (names.has(source.name)) throw new ConfigError(`${file}: sources.${i}.name: ${source.name} is used twice`);
    names.add(source.name);
    const secret = (ref: string, key: string) => {
      const value = env[ref.slice('env:'.length)];
      if (!value) throw new ConfigError(`${file}: sources.${i}.${key}: ${ref.slice(4)} is not set`);
      return value;
    };
    if (source.type === 'websocket') return { ...source, token: source.token && secret(source.token, 'token') };
    if (source.type === 'webhook') {
      return { ...source, auth: { scheme: source.auth.scheme, secret: secret(source.auth.secret, 'auth.secret') } };
    }
    return source;
  });
}

function readNotify(file: string, env: Record<string, string | undefined>): NotifyConfig {
  const { channels, escalation } = readConfigFile('NOTIFY_CONFIG', 'notify config', file, notifyFileSchema);
  const names = new Set<string>();
  channels.forEach((channel, i) => {
    if (names.has(channel.name)) throw new ConfigError(`${file}: channels.${i}.name: ${channel.name} is used twice`);
    names.add(channel.name);
  });
  // Subscriptions are one list per deployment, so a second Web Push channel would reach the same phones.
  if (channels.filter((c) => c.type === 'webpush').length > 1) {
    throw new ConfigError(`${file}: channels: at most one webpush channel`);
  }
  escalation?.channels.forEach((channel, i) => {
    if (!names.has(channel)) throw new ConfigError(`${file}: escalation.channels.${i}: no channel named ${channel}`);
  });
  if (escalation && channels.every((c) => escalation.channels.includes(c.name))) {
    throw new ConfigError(`${file}: escalation.channels: at least one channel must be left for first notices`);
  }
  return {
    channels: channels.map((channel, i) => {
      if (channel.type !== 'webhook') return channel;
      const value = env[channel.url.slice('env:'.length)];
      if (!value) throw new ConfigError(`${file}: channels.${i}.url: ${channel.url.slice(4)} is not set`);
      if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
        throw new ConfigError(`${file}: channels.${i}.url: ${channel.url.slice(4)} is not an http(s) URL`);
      }
      return { ...channel, url: value };
    }),
    escalation,
  };
}

// An exported-but-empty variable (`FOO=`) means "not set", as in most shells' intent.
function withoutEmpty(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((kv): kv is [string, string] => kv[1] !== undefined && kv[1] !== ''),
  );
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '[::1]' || host.startsWith('127.');
}

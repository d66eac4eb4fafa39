/**
 * The one InfluxDB adapter: writes line protocol through @influxdata/influxdb-client's WriteApi and
 * queries in InfluxQL over `/query`, the one query language InfluxDB 1.x, 2.x (v1 compatibility)
 * and 3.x all serve. Servers older than 1.8 have no `/api/v2/write`, so for them the client's
 * transport is adapted to `/write?db=`.
 */
import { HttpError, InfluxDB, setLogger, type Transport, type WriteApi } from '@influxdata/influxdb-client';
import type { InfluxConfig } from '../config';

// Every failed write surfaces as a rejected promise that our callers log with context (and retry
// or spool); the client's own console lines would only repeat it, once per attempt.
setLogger({ error: () => {}, warn: () => {} });

/** Thrown for a write InfluxDB refused for its content (4xx but 429): retrying cannot help. */
export class WriteRejectedError extends Error {
  override name = 'WriteRejectedError';
  readonly retryable = false;

  constructor(
    message: string,
    /** Points InfluxDB says it dropped; a 1.x "partial write" stores the rest of the batch. */
    readonly refusedEvents: number | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

export interface InfluxStore {
  /** `v1` = `/write?db=`, `v2` = `/api/v2/write`. */
  readonly api: 'v1' | 'v2';
  readonly version: string;
  /**
   * Writes lines with nanosecond timestamps and resolves once InfluxDB acknowledged all of them.
   * Calls may overlap: each hands its lines to the WriteApis and flushes them in one synchronous
   * step, so no call's lines end up in another's request. Rejects with WriteRejectedError when InfluxDB refused the content.
   */
  writeLines(lines: readonly string[]): Promise<void>;
  /** Runs InfluxQL; times come back as integer ms. Throws with InfluxDB's own message on error. */
  query(influxql: string): Promise<InfluxSeries[]>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

// The pipeline hands over whole batches and waits for each flush, so the WriteApi must never
// send on its own: its batch is larger than any batch we give it and it has no flush timer.
const NEVER_AUTOFLUSH = 1_000_000;
const PARALLEL_REQUESTS = 4;
/** Below this many lines a batch goes in one request: splitting it would only add overhead. */
const SPLIT_FROM_LINES = 1000;

export async function connectInflux(config: InfluxConfig): Promise<InfluxStore> {
  const version = await pingVersion(config);
  const api = config.api === 'auto' ? apiFor(version) : config.api;
  const bucket = config.retentionPolicy ? `${config.database}/${config.retentionPolicy}` : config.database;
  const base = new InfluxDB({ url: config.url, token: config.token });
  const client =
    api === 'v1'
      ? new InfluxDB({ url: config.url, token: config.token, transport: v1WriteTransport(base.transport, config) })
      : base;
  // InfluxDB ingests requests on several cores at once; each WriteApi has its own buffer, so one
  // batch split over two of them is two requests in flight with no shared state.
  const writers = Array.from({ length: PARALLEL_REQUESTS }, () =>
    client.getWriteApi(config.org ?? '', bucket, 'ns', {
      batchSize: NEVER_AUTOFLUSH,
      maxBufferLines: NEVER_AUTOFLUSH,
      flushInterval: 0,
      maxRetries: 0,
      gzipThreshold: config.gzip ? 1000 : Infinity,
    }),
  );
  const store = new HttpInfluxStore(config, api, version, writers);
  if (api === 'v1') await store.query(`CREATE DATABASE ${quoteIdentifier(config.database)}`);
  return store;
}

class HttpInfluxStore implements InfluxStore {
  constructor(
    private readonly config: InfluxConfig,
    readonly api: 'v1' | 'v2',
    readonly version: string,
    private readonly writers: readonly WriteApi[],
  ) {}

  async writeLines(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    const parts = lines.length < SPLIT_FROM_LINES ? 1 : this.writers.length;
    const size = Math.ceil(lines.length / parts);
    try {
      // Points carry their own timestamps and re-writing one is a no-op, so the parts may race.
      await Promise.all(
        this.writers.slice(0, parts).map((writer, i) => {
          writer.writeRecords(lines.slice(i * size, (i + 1) * size) as string[]);
          return writer.flush();
        }),
      );
    } catch (error) {
      if (error instanceof HttpError && error.statusCode >= 400 && error.statusCode < 500 && error.statusCode !== 429) {
        const dropped = /dropped=(\d+)/.exec(error.body ?? '');
        throw new WriteRejectedError(
          `InfluxDB refused the batch (${error.statusCode}): ${error.body}`,
          dropped ? Number(dropped[1]) : undefined,
          { cause: error },
        );
      }
      throw error;
    }
  }

  async query(influxql: string): Promise<InfluxSeries[]> {
    const params = new URLSearchParams({ db: this.config.database, q: influxql, epoch: 'ms' });
    if (this.config.retentionPolicy) params.set('rp', this.config.retentionPolicy);
    // POST: 1.x refuses CREATE/DROP over GET, and a long query does not fit a URL.
    const response = await fetch(`${this.config.url}/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...authHeader(this.config) },
      body: params,
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`InfluxQL query failed (${response.status}): ${text.slice(0, 300)}`);
    const body = JSON.parse(text) as { results?: { error?: string; series?: InfluxSeries[] }[]; error?: string };
    const error = body.error ?? body.results?.find((r) => r.error)?.error;
    if (error) throw new Error(`InfluxQL query failed: ${error}`);
    return body.results?.flatMap((r) => r.series ?? []) ?? [];
  }

  async ping(): Promise<boolean> {
    try {
      await pingVersion(this.config);
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.writers.map((writer) => writer.close()));
  }
}

async function pingVersion(config: InfluxConfig): Promise<string> {
  const response = await fetch(`${config.url}/ping`, {
    headers: authHeader(config),
    signal: AbortSignal.timeout(5000),
  });
  if (response.status !== 204 && response.status !== 200) {
    throw new Error(`InfluxDB at ${config.url} answered /ping with ${response.status}`);
  }
  return response.headers.get('x-influxdb-version') ?? 'unknown';
}

/** `/api/v2/write` arrived in 1.8; everything from 1.8 on (2.x, 3.x, Cloud) serves it. */
function apiFor(version: string): 'v1' | 'v2' {
  const match = /^v?(\d+)\.(\d+)/.exec(version);
  if (!match) return 'v2';
  const [major, minor] = [Number(match[1]), Number(match[2])];
  return major === 1 && minor < 8 ? 'v1' : 'v2';
}

/** Rewrites the WriteApi's `/api/v2/write?org=&bucket=&precision=` requests to 1.x's `/write?db=&rp=&precision=`. */
function v1WriteTransport(inner: Transport, config: InfluxConfig): Transport {
  const params = new URLSearchParams({ db: config.database, precision: 'ns' });
  if (config.retentionPolicy) params.set('rp', config.retentionPolicy);
  const v1Path = `/write?${params}`;
  return {
    send: (path, body, options, callbacks) =>
      inner.send(path.startsWith('/api/v2/write') ? v1Path : path, body, options, callbacks),
    request: (path, body, options, responseStarted) => inner.request(path, body, options, responseStarted),
    iterate: (path, body, options) => inner.iterate(path, body, options),
    chunkCombiner: inner.chunkCombiner,
  };
}

function authHeader(config: InfluxConfig): Record<string, string> {
  return config.token ? { authorization: `Token ${config.token}` } : {};
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Quotes a string literal for InfluxQL (`WHERE sale = '...'`). */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

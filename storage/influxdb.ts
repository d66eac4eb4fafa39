/**
 * The one InfluxDB adapter: POSTs line protocol to `/write?db=` (1.x) or `/api/v2/write` (1.8+,
 * 2.x, 3.x) and queries in InfluxQL over `/query`, the one query language InfluxDB 1.x, 2.x (v1
 * compatibility) and 3.x all serve.
 *
 * Writes use node:http with keep-alive rather than @influxdata/influxdb-client's WriteApi: that
 * re-buffers and re-joins every line and fetch-style requests cost several times the CPU, which
 * on a small machine is taken from InfluxDB itself (measured: 1.8 µs an event of the collector's
 * 16). Batching and retries are the caller's anyway (collector/sink-writer.ts).
 */
import http from 'node:http';
import https from 'node:https';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { InfluxConfig } from '../config';

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
   * Writes lines with nanosecond timestamps — an array, or a request body already encoded (what a
   * hot path builds in one pass) — in one request, and resolves once InfluxDB acknowledged all of
   * them; calls may overlap. Rejects with WriteRejectedError when InfluxDB refused the content;
   * any other rejection (network, timeout, 429, 5xx) is worth retrying.
   */
  writeLines(lines: readonly string[] | Uint8Array): Promise<void>;
  /** Runs InfluxQL; times come back as integer ms. Throws with InfluxDB's own message on error. */
  query(influxql: string): Promise<InfluxSeries[]>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** A write not answered in this long is abandoned, for the caller to retry (the client library's default). */
const WRITE_TIMEOUT_MS = 10_000;
const gzip = promisify(zlib.gzip);

export async function connectInflux(config: InfluxConfig): Promise<InfluxStore> {
  const version = await pingVersion(config);
  const api = config.api === 'auto' ? apiFor(version) : config.api;
  const store = new HttpInfluxStore(config, api, version);
  if (api === 'v1') await store.query(`CREATE DATABASE ${quoteIdentifier(config.database)}`);
  return store;
}

class HttpInfluxStore implements InfluxStore {
  private readonly writeUrl: URL;
  private readonly client: typeof http | typeof https;
  // Keep-alive: a new connection per batch costs both ends more than the write itself on loopback.
  private readonly agent: http.Agent;

  constructor(
    private readonly config: InfluxConfig,
    readonly api: 'v1' | 'v2',
    readonly version: string,
  ) {
    this.writeUrl = writeUrl(config, api);
    this.client = this.writeUrl.protocol === 'https:' ? https : http;
    this.agent = new this.client.Agent({ keepAlive: true });
  }

  async writeLines(lines: readonly string[] | Uint8Array): Promise<void> {
    const body = lines instanceof Uint8Array ? lines : lines.join('\n');
    if (body.length === 0) return;
    const { status, answer } = await (this.config.gzip ? this.post(await gzip(body), true) : this.post(body, false));
    if (status === 204 || status === 200) return;
    if (status >= 400 && status < 500 && status !== 429) {
      const dropped = /dropped=(\d+)/.exec(answer);
      throw new WriteRejectedError(
        `InfluxDB refused the batch (${status}): ${answer}`,
        dropped ? Number(dropped[1]) : undefined,
      );
    }
    throw new Error(`InfluxDB write failed (${status}): ${answer.slice(0, 300)}`);
  }

  private post(body: string | Uint8Array, gzipped: boolean): Promise<{ status: number; answer: string }> {
    const headers: http.OutgoingHttpHeaders = {
      'content-type': 'text/plain; charset=utf-8',
      ...authHeader(this.config),
    };
    if (gzipped) headers['content-encoding'] = 'gzip';
    return new Promise((resolve, reject) => {
      const request = this.client.request(
        this.writeUrl,
        { method: 'POST', agent: this.agent, headers, timeout: WRITE_TIMEOUT_MS },
        (response) => {
          let answer = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (answer += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, answer }));
          response.on('error', reject);
        },
      );
      request.on('timeout', () => request.destroy(new Error(`no answer in ${WRITE_TIMEOUT_MS} ms`)));
      request.on('error', (error) => reject(new Error(`InfluxDB write failed: ${error.message}`, { cause: error })));
      request.end(body);
    });
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

  close(): Promise<void> {
    this.agent.destroy();
    return Promise.resolve();
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

function writeUrl(config: InfluxConfig, api: 'v1' | 'v2'): URL {
  // Appended, not resolved: an InfluxDB behind a proxy may live under a path.
  const url = new URL(`${config.url}${api === 'v1' ? '/write' : '/api/v2/write'}`);
  if (api === 'v1') {
    url.searchParams.set('db', config.database);
    if (config.retentionPolicy) url.searchParams.set('rp', config.retentionPolicy);
  } else {
    url.searchParams.set('org', config.org ?? '');
    url.searchParams.set(
      'bucket',
      config.retentionPolicy ? `${config.database}/${config.retentionPolicy}` : config.database,
    );
  }
  url.searchParams.set('precision', 'ns');
  return url;
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

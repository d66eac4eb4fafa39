import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import express, { type Request, type Response } from 'express';
import type { Normalizer } from '../normalize';
import type { Pipeline } from '../pipeline';

/**
 * Webhook ingest (`POST /ingest/:source`): feeds that push. The route authenticates, reads the
 * body within a size limit, splits it into messages and hands them to `Pipeline.offer`, which
 * validates, counts and stores them; the reply carries each rejected message's index and reason.
 */
export interface WebhookSource {
  name: string;
  /** `bearer`: `Authorization: Bearer <secret>`. `hmac`: signature over timestamp + raw body. */
  auth: { scheme: 'bearer' | 'hmac'; secret: string };
  normalizer: Normalizer;
}

export interface IngestOptions {
  maxBodyBytes: number;
  /** Clock (ms) for the HMAC replay window. */
  now?: () => number;
}

export const TIMESTAMP_HEADER = 'X-Lanewatch-Timestamp';
export const SIGNATURE_HEADER = 'X-Lanewatch-Signature';
/** A signed request older or newer than this is refused, so a captured one cannot be replayed. */
const REPLAY_WINDOW_SEC = 300;
const NDJSON = 'application/x-ndjson';

type Denial = { status: 401 | 403; error: string };

export function ingestRoutes(
  sources: readonly WebhookSource[],
  pipeline: Pick<Pipeline, 'offer'>,
  options: IngestOptions,
): express.Router {
  const byName = new Map<string, WebhookSource>();
  for (const source of sources) {
    if (byName.has(source.name)) throw new Error(`webhook source ${source.name} is configured twice`);
    byName.set(source.name, { ...source, normalizer: rejectingUnparseable(source.normalizer) });
  }
  const now = options.now ?? Date.now;

  const router = express.Router();
  router.post('/ingest/:source', async (req, res) => {
    // Until the body is read, a refusal also closes the connection rather than reading the rest of
    // what an unknown or unauthenticated sender streams.
    res.set('Connection', 'close');
    const source = byName.get(req.params.source);
    if (!source) return void res.status(404).json({ error: `no webhook source named ${req.params.source}` });
    const { scheme, secret } = source.auth;
    const denied = scheme === 'bearer' ? checkBearer(req, secret) : checkTimestamp(req, now());
    if (denied) return void deny(res, scheme, denied);

    const body = await readBody(req, options.maxBodyBytes);
    if (body === TOO_LARGE) {
      return void res.status(413).json({ error: `body is larger than ${options.maxBodyBytes} bytes` });
    }
    res.removeHeader('Connection');
    const badSignature = scheme === 'hmac' ? checkSignature(req, body, secret) : undefined;
    if (badSignature) return void deny(res, scheme, badSignature);

    const parsed = parseBody(body, req.get('content-type'));
    if (!parsed.ok) return void res.status(400).json({ error: parsed.error, reasons: parsed.reasons });
    const result = await pipeline.offer(source.name, parsed.messages, source.normalizer);
    if (result.status === 'busy') {
      res.set('Retry-After', String(Math.ceil(result.retryAfterMs / 1000)));
      return void res.status(503).json({ error: 'the collector is catching up; retry later' });
    }
    res.status(202).json({ accepted: result.accepted, rejected: result.rejected });
  });
  return router;
}

function deny(res: Response, scheme: WebhookSource['auth']['scheme'], denial: Denial): void {
  if (denial.status === 401) {
    res.set(
      'WWW-Authenticate',
      scheme === 'bearer'
        ? 'Bearer realm="lanewatch"'
        : `HMAC-SHA256 headers="${TIMESTAMP_HEADER} ${SIGNATURE_HEADER}"`,
    );
  }
  res.status(denial.status).json({ error: denial.error });
}

function checkBearer(req: Request, secret: string): Denial | undefined {
  const token = /^Bearer +(\S+) *$/i.exec(req.get('authorization') ?? '')?.[1];
  if (token === undefined) return { status: 401, error: 'missing Authorization: Bearer <token>' };
  // Hashing first gives equal lengths, which timingSafeEqual needs, without leaking the secret's.
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(token), digest(secret)) ? undefined : { status: 403, error: 'wrong bearer token' };
}

function checkTimestamp(req: Request, nowMs: number): Denial | undefined {
  const timestamp = req.get(TIMESTAMP_HEADER);
  if (timestamp === undefined || req.get(SIGNATURE_HEADER) === undefined) {
    return { status: 401, error: `missing ${TIMESTAMP_HEADER} or ${SIGNATURE_HEADER}` };
  }
  if (!/^\d{1,12}$/.test(timestamp)) return { status: 401, error: `${TIMESTAMP_HEADER} must be unix seconds` };
  const skewSec = Math.round(nowMs / 1000 - Number(timestamp));
  if (Math.abs(skewSec) > REPLAY_WINDOW_SEC) {
    return {
      status: 401,
      error: `${TIMESTAMP_HEADER} is ${Math.abs(skewSec)} s ${skewSec > 0 ? 'old' : 'ahead'}; more than ${REPLAY_WINDOW_SEC} s (replay or clock skew)`,
    };
  }
  return undefined;
}

/** Over the raw bytes as received: re-serialized JSON would not match what the sender signed. */
function checkSignature(req: Request, body: Buffer, secret: string): Denial | undefined {
  const hex = /^sha256=([0-9a-f]{64})$/i.exec(req.get(SIGNATURE_HEADER) ?? '')?.[1];
  if (hex === undefined) return { status: 403, error: `${SIGNATURE_HEADER} must be sha256=<64 hex digits>` };
  const expected = createHmac('sha256', secret)
    .update(`${req.get(TIMESTAMP_HEADER)}.`)
    .update(body)
    .digest();
  return timingSafeEqual(expected, Buffer.from(hex, 'hex')) ? undefined : { status: 403, error: 'wrong signature' };
}

const TOO_LARGE = Symbol('too large');

/** Reads at most `maxBytes`: past that it stops reading instead of buffering the rest. */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | typeof TOO_LARGE> {
  if (Number(req.headers['content-length']) > maxBytes) return Promise.resolve(TOO_LARGE);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      req.off('data', onData);
      req.pause();
      resolve(TOO_LARGE);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', reject);
    req.once('close', () => reject(new Error('the client went away before sending the whole body')));
  });
}

type Parsed = { ok: true; messages: unknown[] } | { ok: false; error: string; reasons: string[] };

/** By content type; undeclared bodies are tried as JSON, then as NDJSON if any line is JSON. */
function parseBody(body: Buffer, contentType: string | undefined): Parsed {
  const text = body.toString('utf8');
  if (text.trim() === '') return { ok: false, error: 'empty body', reasons: [] };
  const media = (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (media === NDJSON) return { ok: true, messages: ndjsonLines(text) };
  const whole = parseJson(text);
  if (media === 'application/json' || media.endsWith('+json') || whole.ok || whole.error !== NOT_JSON) return whole;
  const lines = ndjsonLines(text);
  return lines.some((line) => !(line instanceof UnparseableLine)) ? { ok: true, messages: lines } : whole;
}

const NOT_JSON = 'body is neither JSON nor NDJSON';

function parseJson(text: string): Parsed {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: NOT_JSON, reasons: [(error as Error).message] };
  }
  if (Array.isArray(value)) return { ok: true, messages: value };
  if (typeof value === 'object' && value !== null) return { ok: true, messages: [value] };
  return { ok: false, error: 'body must be a JSON object or array', reasons: [`got ${JSON.stringify(value)}`] };
}

/** One message per non-blank line; a line that is not JSON stays an item, to be rejected alone. */
function ndjsonLines(text: string): unknown[] {
  const messages: unknown[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      messages.push(JSON.parse(line));
    } catch (error) {
      messages.push(new UnparseableLine(line, `not JSON: line ${i + 1}: ${(error as Error).message}`));
    }
  });
  return messages;
}

/** Goes through the pipeline like any message, so it is counted and dead-lettered. */
class UnparseableLine {
  constructor(
    readonly text: string,
    readonly reason: string,
  ) {}

  /** What the dead-letter excerpt shows: the line as sent. */
  toJSON(): string {
    return this.text;
  }
}

function rejectingUnparseable(normalizer: Normalizer): Normalizer {
  return {
    normalize: (message) =>
      message instanceof UnparseableLine ? { ok: false, reason: message.reason } : normalizer.normalize(message),
  };
}

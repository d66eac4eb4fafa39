/**
 * The webhook's HTTP contract (API.md, POST /ingest/:source), against a stub pipeline that only
 * offers: status codes, authentication, body limits and how bodies split into messages. The real
 * pipeline behind it is exercised in test/integration/fuzz.test.ts.
 */
import { createHmac } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { contractEvents, type Normalizer } from '../collector/normalize';
import type { OfferResult } from '../collector/pipeline';
import { ingestRoutes } from '../collector/sources/webhook';

const NOW = Date.UTC(2026, 10, 23, 15, 0);
const NOW_SEC = NOW / 1000;
const MAX_BODY = 1024;

/** Accepts every message its normalizer takes, except those marked `bad`. */
const pipeline = {
  busy: false,
  offers: [] as { source: string; messages: readonly unknown[] }[],
  async offer(source: string, messages: readonly unknown[], normalizer: Normalizer): Promise<OfferResult> {
    if (this.busy) return { status: 'busy', retryAfterMs: 4500 };
    this.offers.push({ source, messages });
    const rejected: { index: number; reason: string }[] = [];
    messages.forEach((message, index) => {
      const normalized = normalizer.normalize(message);
      if (!normalized.ok) rejected.push({ index, reason: normalized.reason });
      else if ((message as { bad?: boolean }).bad) rejected.push({ index, reason: 'stub: marked bad' });
    });
    return { status: 'accepted', accepted: messages.length - rejected.length, rejected };
  },
};

let server: Server;
let base: string;
beforeAll(async () => {
  const app = express().use(
    ingestRoutes(
      [
        { name: 'acme-push', auth: { scheme: 'bearer', secret: 'tok-123' }, normalizer: contractEvents },
        { name: 'signed', auth: { scheme: 'hmac', secret: 'hmac-key' }, normalizer: contractEvents },
      ],
      pipeline,
      { maxBodyBytes: MAX_BODY, now: () => NOW },
    ),
  );
  server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));
beforeEach(() => {
  pipeline.busy = false;
  pipeline.offers = [];
});

const BEARER = { authorization: 'Bearer tok-123' };
const JSON_TYPE = { 'content-type': 'application/json' };
const NDJSON_TYPE = { 'content-type': 'application/x-ndjson' };

function signed(body: string, timestampSec = NOW_SEC, secret = 'hmac-key'): Record<string, string> {
  const signature = createHmac('sha256', secret).update(`${timestampSec}.${body}`).digest('hex');
  return { 'x-lanewatch-timestamp': String(timestampSec), 'x-lanewatch-signature': `sha256=${signature}` };
}

async function post(source: string, body: BodyInit, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}/ingest/${source}`, { method: 'POST', body, headers, duplex: 'half' } as RequestInit);
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

describe('POST /ingest/:source — who may send', () => {
  it('answers 404 for a source that is not configured', async () => {
    expect(await post('nobody', '{}', BEARER)).toMatchObject({
      status: 404,
      body: { error: 'no webhook source named nobody' },
    });
  });

  it('answers 401 with WWW-Authenticate when the bearer token is missing, 403 when it is wrong', async () => {
    const missing = await post('acme-push', '{}');
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="lanewatch"');
    // Refused unread: the connection is not kept for whatever else the sender streams.
    expect(missing.headers.get('connection')).toBe('close');
    expect(await post('acme-push', '{}', { authorization: 'Bearer tok-12' })).toMatchObject({ status: 403 });
    expect(pipeline.offers).toEqual([]);
  });

  it('answers 401 when the HMAC headers are missing, 403 when the signature does not match', async () => {
    const missing = await post('signed', '{}');
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^HMAC-SHA256 /);
    expect(await post('signed', '{"id":"b"}', signed('{"id":"a"}'))).toMatchObject({
      status: 403,
      body: { error: 'wrong signature' },
    });
    expect(await post('signed', '{}', signed('{}', NOW_SEC, 'other-key'))).toMatchObject({ status: 403 });
    expect(pipeline.offers).toEqual([]);
  });

  it('refuses a signed request more than 5 minutes old or ahead (replay), with the reason', async () => {
    expect(await post('signed', '{}', signed('{}', NOW_SEC - 301))).toEqual({
      status: 401,
      headers: expect.anything(),
      body: { error: 'X-Lanewatch-Timestamp is 301 s old; more than 300 s (replay or clock skew)' },
    });
    expect(await post('signed', '{}', signed('{}', NOW_SEC + 301))).toMatchObject({ status: 401 });
    expect(await post('signed', '{}', signed('{}', NOW_SEC - 300))).toMatchObject({ status: 202 });
  });

  it('verifies the signature over the raw bytes, spacing and all', async () => {
    const raw = '{ "id" :  "a",\n "type": "heartbeat" }';
    expect(await post('signed', raw, { ...JSON_TYPE, ...signed(raw) })).toMatchObject({
      status: 202,
      body: { accepted: 1 },
    });
    expect(pipeline.offers).toEqual([{ source: 'signed', messages: [{ id: 'a', type: 'heartbeat' }] }]);
  });
});

describe('POST /ingest/:source — bodies', () => {
  it('answers 413 for a body over the limit, declared or streamed, without offering anything', async () => {
    expect(await post('acme-push', `[${'1,'.repeat(MAX_BODY / 2)}1]`, BEARER)).toMatchObject({ status: 413 });
    // Never ends: that this settles shows the server stopped reading at the limit.
    const endless = new ReadableStream({
      pull(controller) {
        controller.enqueue(new TextEncoder().encode('x'.repeat(400)));
      },
    });
    expect(await post('acme-push', endless, BEARER)).toMatchObject({
      status: 413,
      body: { error: 'body is larger than 1024 bytes' },
    });
    expect(pipeline.offers).toEqual([]);
  });

  it.each([
    ['JSON that does not parse', '{"id":"a",', JSON_TYPE, 'body is neither JSON nor NDJSON'],
    ['a JSON value that is neither object nor array', '42', JSON_TYPE, 'body must be a JSON object or array'],
    ['undeclared text that is no JSON line at all', 'hello\nworld', {}, 'body is neither JSON nor NDJSON'],
    ['an empty body', '  \n', NDJSON_TYPE, 'empty body'],
  ])('answers 400 with reasons for %s', async (_, body, headers, error) => {
    const res = await post('acme-push', body, { ...BEARER, ...headers });
    expect(res).toMatchObject({ status: 400, body: { error, reasons: expect.any(Array) } });
    expect(pipeline.offers).toEqual([]);
  });

  it('takes one JSON event', async () => {
    const res = await post('acme-push', '{"id":"a"}', { ...BEARER, ...JSON_TYPE });
    expect(res).toMatchObject({ status: 202, body: { accepted: 1, rejected: [] } });
    expect(res.headers.get('connection')).not.toBe('close');
    expect(pipeline.offers).toEqual([{ source: 'acme-push', messages: [{ id: 'a' }] }]);
  });

  it('takes a JSON array and reports each rejected item by its index', async () => {
    const res = await post('acme-push', '[{"id":"a"},{"id":"b","bad":true},{"id":"c"}]', BEARER);
    expect(res).toMatchObject({
      status: 202,
      body: { accepted: 2, rejected: [{ index: 1, reason: 'stub: marked bad' }] },
    });
  });

  it('takes NDJSON: blank lines skipped, a line that is not JSON rejected alone with its line number', async () => {
    const body = '{"id":"a"}\n\n{"id":"b",\r\n{"id":"c"}\n';
    const res = await post('acme-push', body, { ...BEARER, ...NDJSON_TYPE });
    expect(res.status).toBe(202);
    expect(res.body.accepted).toBe(2);
    expect(res.body.rejected).toEqual([{ index: 1, reason: expect.stringMatching(/^not JSON: line 3: /) }]);
  });

  it('recognises undeclared NDJSON when at least one line is JSON', async () => {
    const res = await post('acme-push', '{"id":"a"}\n{"id":"b"}\nnot json', BEARER);
    expect(res).toMatchObject({ status: 202, body: { accepted: 2, rejected: [{ index: 2 }] } });
  });

  it('answers 503 with Retry-After in whole seconds when the pipeline is busy', async () => {
    pipeline.busy = true;
    const res = await post('acme-push', '{"id":"a"}', BEARER);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
  });
});

/**
 * How storage/influxdb.ts writes: one request per call, over a kept-alive connection, to the API
 * the server's version calls for, and an answer classified by what the caller should do — refused
 * content is dropped and counted, anything else is retried. Against a stand-in server that records
 * what it gets and answers as told.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config';
import { connectInflux, WriteRejectedError, type InfluxStore } from '../storage/influxdb';

interface Received {
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  socket: number;
}

const received: Received[] = [];
let version = '1.6.7';
let answer = { status: 204, body: '' };
let server: http.Server;
let url: string;

/** A stand-in InfluxDB: answers /ping and /query, records writes and answers them as told. */
function standIn(): http.Server {
  const sockets = new Map<object, number>();
  return http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (!sockets.has(request.socket)) sockets.set(request.socket, sockets.size);
      if (request.url?.startsWith('/ping')) {
        response.writeHead(204, { 'x-influxdb-version': version }).end();
        return;
      }
      if (request.url?.startsWith('/query')) {
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"results":[{}]}');
        return;
      }
      const body = Buffer.concat(chunks);
      received.push({
        url: request.url ?? '',
        headers: request.headers,
        body,
        socket: sockets.get(request.socket) ?? -1,
      });
      response.writeHead(answer.status).end(answer.body);
    });
  });
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  server = standIn();
  url = await listen(server);
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

beforeEach(() => {
  received.length = 0;
  version = '1.6.7';
  answer = { status: 204, body: '' };
});

async function store(env: Record<string, string> = {}, at = url): Promise<InfluxStore> {
  return connectInflux(loadConfig({ INFLUX_URL: at, INFLUX_DB: 'lw', ...env }).influx);
}

const LINES = ['m,a=1 f=1i 1', 'm,a=2 f=2i 2'];

describe('writing to InfluxDB', () => {
  it('sends a 1.x server the lines in one request to /write, over one kept-alive connection', async () => {
    const influx = await store({ INFLUX_RP: 'week' });
    await influx.writeLines(LINES);
    await influx.writeLines(Buffer.from(LINES.join('\n')));
    await influx.close();
    expect(received.map((r) => r.url)).toEqual([
      '/write?db=lw&rp=week&precision=ns',
      '/write?db=lw&rp=week&precision=ns',
    ]);
    expect(received.map((r) => r.body.toString())).toEqual([LINES.join('\n'), LINES.join('\n')]);
    expect(received[0]?.socket).toBe(received[1]?.socket);
  });

  it('sends a 1.8+ server to /api/v2/write with the bucket and the token', async () => {
    version = '2.7.1';
    const influx = await store({ INFLUX_TOKEN: 's3cret', INFLUX_ORG: 'yard', INFLUX_RP: 'week' });
    await influx.writeLines(LINES);
    await influx.close();
    expect(received[0]?.url).toBe('/api/v2/write?org=yard&bucket=lw%2Fweek&precision=ns');
    expect(received[0]?.headers.authorization).toBe('Token s3cret');
  });

  it('gzips the body when told to', async () => {
    const influx = await store({ INFLUX_GZIP: 'on' });
    await influx.writeLines(LINES);
    await influx.close();
    expect(received[0]?.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(received[0]?.body ?? Buffer.alloc(0)).toString()).toBe(LINES.join('\n'));
  });

  it('sends nothing for no lines', async () => {
    const influx = await store();
    await influx.writeLines([]);
    await influx.writeLines(Buffer.alloc(0));
    await influx.close();
    expect(received).toEqual([]);
  });

  it('reports refused content as not retryable, with the points a partial write dropped', async () => {
    answer = { status: 400, body: '{"error":"partial write: field type conflict dropped=1"}' };
    const influx = await store();
    const error: unknown = await influx.writeLines(LINES).catch((e: unknown) => e);
    await influx.close();
    expect(error).toBeInstanceOf(WriteRejectedError);
    expect(error).toMatchObject({ retryable: false, refusedEvents: 1 });
  });

  it.each([429, 500, 503])('reports a %i as worth retrying', async (status) => {
    answer = { status, body: 'busy' };
    const influx = await store();
    const error: unknown = await influx.writeLines(LINES).catch((e: unknown) => e);
    await influx.close();
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(WriteRejectedError);
    expect((error as Error).message).toContain(String(status));
  });

  it('reports a server that went away as worth retrying', async () => {
    const doomed = standIn();
    const influx = await store({}, await listen(doomed));
    await new Promise((resolve) => doomed.close(resolve));
    const error: unknown = await influx.writeLines(LINES).catch((e: unknown) => e);
    await influx.close();
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(WriteRejectedError);
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
  });
});

import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../config';
import { startServices } from '../scripts/services';

const influxUrl = inject('influxUrl');
const redisUrl = inject('redisUrl');

async function influxAnswersPing(): Promise<number> {
  const res = await fetch(`${influxUrl}/ping`);
  await res.body?.cancel();
  return res.status;
}

async function redisPing(): Promise<string> {
  const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await client.connect();
    return await client.ping();
  } finally {
    client.disconnect();
  }
}

describe('local services', () => {
  it('InfluxDB answers /ping with 204', async () => {
    expect(await influxAnswersPing()).toBe(204);
  });

  it('InfluxDB runs SHOW DATABASES', async () => {
    const res = await fetch(`${influxUrl}/query?q=${encodeURIComponent('SHOW DATABASES')}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { results: { statement_id: number; series?: { name: string }[] }[] };
    expect(body.results).toHaveLength(1);
    expect(body.results[0]).toMatchObject({ statement_id: 0 });
    expect(body.results[0]).not.toHaveProperty('error');
  });

  it('Redis answers PING with PONG', async () => {
    expect(await redisPing()).toBe('PONG');
  });

  it('a second start reuses the running servers, and its stop() leaves them running', async () => {
    const config = loadConfig({ INFLUX_URL: influxUrl, REDIS_URL: redisUrl });
    const lines: string[] = [];
    const again = await startServices(config, { log: (line) => lines.push(line) });

    expect(again.started).toEqual([]);
    expect(again).toMatchObject({ influxUrl, redisUrl });
    expect(lines).toEqual([`InfluxDB: reusing the server at ${influxUrl}`, `Redis: reusing the server at ${redisUrl}`]);

    await again.stop();
    expect(await influxAnswersPing()).toBe(204);
    expect(await redisPing()).toBe('PONG');
  });
});

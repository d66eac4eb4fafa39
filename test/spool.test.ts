import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LaneEvent } from '../collector/events';
import { Spool, type Batch } from '../collector/spool';
import { script } from './helpers/script';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lanewatch-spool-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** `n` batches of `size` attendance events each, numbered b0, b1, … */
function batches(n: number, size = 3, from = 0): Batch[] {
  return Array.from({ length: n }, (_, i) => {
    const s = script();
    for (let k = 0; k < size; k++) s.at(i).attendance(k);
    return { id: `b${from + i}`, events: s.events as LaneEvent[] };
  });
}

async function drain(spool: Spool): Promise<string[]> {
  const ids: string[] = [];
  for (let batch = await spool.peek(); batch; batch = await spool.peek()) {
    ids.push(batch.id);
    await spool.ack();
  }
  return ids;
}

describe('spool', () => {
  it('gives batches back in the order they were appended, each once', async () => {
    const spool = await Spool.open(dir, { maxBytes: 1e6, segmentBytes: 2000 });
    await spool.append(batches(5));
    await spool.append(batches(5, 3, 5));
    expect(spool.pendingEvents).toBe(30);
    expect(await drain(spool)).toEqual(['b0', 'b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7', 'b8', 'b9']);
    expect(spool.isEmpty).toBe(true);
    expect(spool.pendingBytes).toBe(0);
  });

  it('rotates segments and deletes the ones fully written', async () => {
    const spool = await Spool.open(dir, { maxBytes: 1e6, segmentBytes: 1500 });
    for (let i = 0; i < 10; i++) await spool.append(batches(1, 3, i));
    const segmentsBefore = fs.readdirSync(dir).filter((f) => f.endsWith('.ndjson')).length;
    expect(segmentsBefore).toBeGreaterThan(2);
    expect(await drain(spool)).toHaveLength(10);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.ndjson'))).toHaveLength(1);
    await spool.append(batches(1, 3, 10));
    expect(await drain(spool)).toEqual(['b10']);
  });

  it('resumes after a restart at the first batch not yet written', async () => {
    const first = await Spool.open(dir, { maxBytes: 1e6, segmentBytes: 1500 });
    await first.append(batches(8));
    for (let i = 0; i < 3; i++) {
      await first.peek();
      await first.ack();
    }
    const reopened = await Spool.open(dir, { maxBytes: 1e6, segmentBytes: 1500 });
    expect(reopened.pendingEvents).toBe(15);
    expect(await drain(reopened)).toEqual(['b3', 'b4', 'b5', 'b6', 'b7']);
  });

  it('cuts off a line torn by a crash mid-append and keeps everything before it', async () => {
    const spool = await Spool.open(dir, { maxBytes: 1e6 });
    await spool.append(batches(2));
    const segment = path.join(dir, fs.readdirSync(dir).find((f) => f.endsWith('.ndjson')) as string);
    fs.appendFileSync(segment, '{"id":"b2","events":[{"id":"tor');
    const reopened = await Spool.open(dir, { maxBytes: 1e6 });
    expect(await drain(reopened)).toEqual(['b0', 'b1']);
    await reopened.append(batches(1, 3, 9));
    expect(await drain(reopened)).toEqual(['b9']);
  });

  it('drops the oldest segments past its size cap and counts the events lost', async () => {
    const spool = await Spool.open(dir, { maxBytes: 3000, segmentBytes: 1000 });
    let dropped = 0;
    for (let i = 0; i < 20; i++) dropped += await spool.append(batches(1, 3, i));
    expect(dropped).toBeGreaterThan(0);
    expect(spool.droppedEvents).toBe(dropped);
    expect(spool.pendingBytes).toBeLessThanOrEqual(3000);
    const left = await drain(spool);
    expect(left.at(-1)).toBe('b19');
    expect(left.length * 3 + dropped).toBe(60);
  });
});

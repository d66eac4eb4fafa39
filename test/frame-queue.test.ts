/**
 * How the wall paces its screen updates (ui/src/lib/frame-queue.ts), in real time: what arrives
 * together is applied together, no update takes more than its cap, a backlog is worked off at once,
 * and an update over its budget makes the next smaller. Node has no animation frames; here a frame
 * is a 16 ms timer, and an update's cost is the time its `apply` spins.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameQueue, type FramePace } from '../ui/src/lib/frame-queue';

const FRAME_MS = 16;

beforeAll(() => {
  const frames = new Map<number, ReturnType<typeof setTimeout>>();
  let next = 0;
  globalThis.requestAnimationFrame = (callback) => {
    const id = ++next;
    frames.set(
      id,
      setTimeout(() => {
        frames.delete(id);
        callback(performance.now());
      }, FRAME_MS),
    );
    return id;
  };
  globalThis.cancelAnimationFrame = (id) => {
    clearTimeout(frames.get(id));
    frames.delete(id);
  };
});

afterAll(() => {
  Reflect.deleteProperty(globalThis, 'requestAnimationFrame');
  Reflect.deleteProperty(globalThis, 'cancelAnimationFrame');
});

/** A queue that records each update: its items and when it began. */
function recordingQueue(pace: FramePace, cost = { perItemMs: 0 }) {
  const updates: { items: number[]; at: number }[] = [];
  const queue = new FrameQueue<number>((items) => {
    updates.push({ items, at: performance.now() });
    const until = performance.now() + cost.perItemMs * items.length;
    while (performance.now() < until); // the update's cost, spent on the main thread
  }, pace);
  return { queue, updates };
}

const PACE: FramePace = { intervalMs: 200, frameBudgetMs: 25, maxPerFrame: 6 };

describe('paced screen updates', () => {
  it('applies what arrives between two updates together, and waits the interval before the next', async () => {
    const { queue, updates } = recordingQueue(PACE);
    for (const item of [1, 2, 3]) queue.push(item);
    await sleep(60);
    expect(updates.map((u) => u.items)).toEqual([[1, 2, 3]]);

    for (const item of [4, 5]) {
      queue.push(item);
      await sleep(20);
    }
    await sleep(PACE.intervalMs + 60);
    expect(updates.map((u) => u.items)).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
    const [first, second] = updates.map((update) => update.at) as [number, number];
    expect(second - first).toBeGreaterThanOrEqual(PACE.intervalMs - 1);
  });

  it('caps an update at its most items, works full ones off without waiting, and lets the rest join the next', async () => {
    const { queue, updates } = recordingQueue(PACE);
    const items = Array.from({ length: 14 }, (_, i) => i);
    for (const item of items) queue.push(item);
    await sleep(120);
    expect(updates.map((u) => u.items.length)).toEqual([6, 6]);
    queue.push(14);
    await sleep(PACE.intervalMs);
    expect(updates.map((u) => u.items.length)).toEqual([6, 6, 3]);
    expect(updates.flatMap((u) => u.items)).toEqual([...items, 14]);
    const [first, second, third] = updates.map((update) => update.at) as [number, number, number];
    expect(second - first).toBeLessThan(PACE.intervalMs / 2);
    expect(third - second).toBeGreaterThanOrEqual(PACE.intervalMs - 1);
  });

  it('makes the next update smaller in proportion after one over its budget, and grows it back while well under', async () => {
    const cost = { perItemMs: 10 };
    const { queue, updates } = recordingQueue({ intervalMs: 50, frameBudgetMs: 25, maxPerFrame: 6 }, cost);
    for (let i = 0; i < 12; i++) queue.push(i);
    await sleep(400);
    // 6 items took 60 ms, over 25: the next takes 6 × 25 / 60 = 2. Two took 20 ms: under 25, not well under.
    expect(updates.map((u) => u.items.length)).toEqual([6, 2, 2, 2]);

    cost.perItemMs = 1;
    updates.length = 0;
    for (let i = 0; i < 20; i++) queue.push(i);
    await sleep(400);
    expect(updates.map((u) => u.items.length)).toEqual([2, 3, 4, 5, 6]);
  });

  it('applies everything queued, once a second, in a page the browser does not paint', async () => {
    const painting = globalThis.requestAnimationFrame;
    globalThis.requestAnimationFrame = () => 0;
    try {
      const { queue, updates } = recordingQueue(PACE);
      for (let i = 0; i < 20; i++) queue.push(i);
      await sleep(500);
      expect(updates).toEqual([]);
      await sleep(700);
      expect(updates.map((u) => u.items.length)).toEqual([20]);
    } finally {
      globalThis.requestAnimationFrame = painting;
    }
  });
});

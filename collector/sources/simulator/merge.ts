/**
 * K-way merge of ts-ordered streams through a binary heap: holds one event per stream, so a
 * 64-lane sale is merged with 64-odd events in memory. Equal ts come out in stream order.
 */

interface Head<T> {
  item: T;
  rank: number;
  rest: Iterator<T>;
}

export function* mergeByTs<T extends { ts: number }>(streams: readonly Iterator<T>[]): Generator<T> {
  const heap: Head<T>[] = [];
  streams.forEach((rest, rank) => {
    const first = rest.next();
    if (first.done !== true) siftUp(heap, heap.push({ item: first.value, rank, rest }) - 1);
  });
  for (let top = heap[0]; top !== undefined; top = heap[0]) {
    yield top.item;
    const next = top.rest.next();
    if (next.done !== true) {
      top.item = next.value;
    } else {
      const last = heap.pop() as Head<T>;
      if (heap.length === 0) return;
      heap[0] = last;
    }
    siftDown(heap, 0);
  }
}

function before<T extends { ts: number }>(a: Head<T>, b: Head<T>): boolean {
  return a.item.ts < b.item.ts || (a.item.ts === b.item.ts && a.rank < b.rank);
}

function siftUp<T extends { ts: number }>(heap: Head<T>[], i: number): void {
  const node = heap[i] as Head<T>;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const above = heap[parent] as Head<T>;
    if (!before(node, above)) break;
    heap[i] = above;
    i = parent;
  }
  heap[i] = node;
}

function siftDown<T extends { ts: number }>(heap: Head<T>[], i: number): void {
  const node = heap[i] as Head<T>;
  for (;;) {
    let child = 2 * i + 1;
    if (child >= heap.length) break;
    const right = heap[child + 1];
    if (right !== undefined && before(right, heap[child] as Head<T>)) child++;
    const below = heap[child] as Head<T>;
    if (!before(below, node)) break;
    heap[i] = below;
    i = child;
  }
  heap[i] = node;
}

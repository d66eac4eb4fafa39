/**
 * `npm run bench:engine` — the pure metrics engine on one core, no I/O:
 *
 * 1. Throughput: simulator events generated in memory beforehand, then fed through the buffered
 *    entry point (`ingest`, then `flush`), fresh engine per pass; the best of three passes.
 * 2. Memory: heap per lane after 1, 4 and 10 hours of a simulated 16-lane sale, streamed lazily so
 *    only the engine holds the sale, and what it is made of; it should stay near flat.
 * 3. Checkpoint: the serialized engine after a simulated 8-lane, 4-hour sale.
 */
import os from 'node:os';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SeenEvents, type LaneEvent } from '../collector/events';
import { simulateSale } from '../collector/sources/simulator';
import { createEngine, flush, ingest, type EngineState } from '../server/metrics/engine';
import { restoreEngine, serializeEngine } from '../server/metrics/persist';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 400_000);
const TARGET_EVENTS_PER_SEC = 200_000;
const HOUR = 3_600_000;
const START = Date.UTC(2026, 10, 23, 14, 0);
/** Enough lanes that the heap's noise (tens of KB) is small per lane. */
const MEMORY_LANES = 32;

// Heap figures need a full collection before each reading.
v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const throughput = measureThroughput(simulated(64, 600, EVENTS));
const [hour, fourHours, tenHours] = [heapAfter(1), heapAfter(4), heapAfter(10)];
const checkpoint = measureCheckpoint(8, 240);

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(
  `\nengine benchmark — ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} × ${cpu}, Node ${process.version}`,
);
console.log(
  `  ingest → applied (one core, ${fmt(EVENTS)} events, 64 lanes): ${fmt(throughput)} events/s  (target ≥ ${fmt(TARGET_EVENTS_PER_SEC)})`,
);
console.log(
  `  heap per lane, ${MEMORY_LANES} lanes: ${kb(hour.perLane)} after 1 h, ${kb(tenHours.perLane)} after 10 h, ` +
    `ratio ${(tenHours.perLane / hour.perLane).toFixed(2)}  (target flat)`,
);
for (const [label, heap] of [
  ['1 h', hour],
  ['4 h', fourHours],
  ['10 h', tenHours],
] as const) {
  console.log(
    `    ${label.padStart(4)}: ${kb(heap.outcomesHeap)} remembered outcomes (${heap.outcomes}; capped at 5,000) + ` +
      `${kb(heap.rest)} the rest; engine-wide dedup window (20,000 ids) ${kb(heap.dedup)}`,
  );
}
console.log(
  `    the rest, 10 h ÷ 1 h: ${(tenHours.rest / hour.rest).toFixed(2)}, 10 h ÷ 4 h: ${(tenHours.rest / fourHours.rest).toFixed(2)} ` +
    `(windows fill and the bidder population is met in the first hours, then it stays)`,
);
console.log(
  `  checkpoint, 8 lanes × 4 h: ${kb(checkpoint.bytes)} (${kb(checkpoint.dedupBytes)} of it the dedup window); ` +
    `serialize ${checkpoint.serializeMs.toFixed(0)} ms, restore ${checkpoint.restoreMs.toFixed(0)} ms`,
);

function simulated(lanes: number, durationMin: number, count: number): LaneEvent[] {
  const sale = simulateSale({ seed: 9, lanes, durationMin, speed: 0, auction: 'bench', start: START });
  const events: LaneEvent[] = [];
  for (const event of sale.events()) {
    events.push(event);
    if (events.length === count) break;
  }
  return events;
}

function measureThroughput(events: readonly LaneEvent[]): number {
  feed(createEngine(), events); // warm-up: let the JIT settle
  let best = 0;
  for (let pass = 0; pass < 3; pass++) {
    gc();
    const engine = createEngine();
    const started = performance.now();
    feed(engine, events);
    flush(engine);
    best = Math.max(best, events.length / ((performance.now() - started) / 1000));
  }
  return best;
}

function feed(engine: EngineState, events: Iterable<LaneEvent>): void {
  for (const event of events) ingest(engine, event);
}

/** Heap per lane after `hours` of a sale, taken apart: remembered outcomes and the rest; and the dedup window. */
function heapAfter(hours: number) {
  const sale = simulateSale({
    seed: 5,
    lanes: MEMORY_LANES,
    durationMin: 600,
    speed: 0,
    auction: 'bench',
    start: START,
  });
  const stream = sale.events();
  const engine = createEngine();
  ingest(engine, stream.next().value as LaneEvent); // the simulator's own state is in the baseline
  const baseline = heapUsed();
  for (let next = stream.next(); !next.done; next = stream.next()) {
    ingest(engine, next.value);
    if (next.value.ts >= sale.start + hours * HOUR) break;
  }
  const laneStates = [...(engine.sales.get(sale.sale)?.lanes.values() ?? [])];
  const outcomes = Math.round(laneStates.reduce((n, lane) => n + lane.outcomes.size, 0) / MEMORY_LANES);
  const total = heapUsed() - baseline;
  engine.seen = new SeenEvents(1);
  const lanes = heapUsed() - baseline;
  for (const lane of laneStates) lane.outcomes.clear();
  const rest = (heapUsed() - baseline) / MEMORY_LANES;
  return {
    perLane: lanes / MEMORY_LANES,
    outcomesHeap: lanes / MEMORY_LANES - rest,
    outcomes,
    rest,
    dedup: total - lanes,
  };
}

function measureCheckpoint(lanes: number, durationMin: number) {
  const sale = simulateSale({ seed: 3, lanes, durationMin, speed: 0, auction: 'bench', start: START });
  const engine = createEngine();
  feed(engine, sale.events());
  flush(engine);
  let started = performance.now();
  const text = serializeEngine(engine);
  const serializeMs = performance.now() - started;
  started = performance.now();
  restoreEngine(text);
  const restoreMs = performance.now() - started;
  engine.sales.clear();
  const dedupBytes = Buffer.byteLength(serializeEngine(engine));
  return { bytes: Buffer.byteLength(text), dedupBytes, serializeMs, restoreMs };
}

function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KB`;
}

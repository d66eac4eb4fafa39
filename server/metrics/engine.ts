/**
 * The metrics engine: a deterministic state machine over contract events. It updates the state in
 * place, for speed, and reads no clock and does no I/O; the views in ./snapshot and ./summary are
 * pure functions of the state and a `now` the caller passes in. The same events in the same order
 * therefore give the same figures, live or replayed at 100×.
 *
 * Events enter through `ingest`: repeats are dropped there, then each sale holds its events in a
 * reorder buffer for `latenessMs` so they are applied in `ts` order. The buffer is per sale, not
 * per lane, because sale figures (the online bidders summed over lanes, its peak) combine lanes at
 * the same instant and so need the lanes merged in time order; different sales have unrelated
 * clocks (a replay of last week next to today's live sale), so each sale has its own watermark.
 */
import { SeenEvents, laneOf, type LaneEvent } from '../../collector/events';
import { AttendanceSum } from './attendance-sum';
import { LaneState } from './lane';
import { ReorderBuffer } from './reorder';
import { Staffing } from './tally';

export interface EngineOptions {
  /** How late (behind its sale's newest event) an event may arrive and still be applied in order. */
  latenessMs: number;
  /**
   * Event identities remembered to drop a resend. The collector dedups already; the engine only
   * absorbs what a collector crash re-appends, so a modest window keeps checkpoints small.
   */
  dedupWindow: number;
}

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = { latenessMs: 2000, dedupWindow: 20_000 };

export interface SaleState {
  auction: string;
  sale: string;
  name: string;
  open: boolean;
  openedAt: number;
  closedAt: number | null;
  /** Newest event time received for the sale (held or applied): its event-time "now" derives from it. */
  latestTs: number;
  lanes: Map<string, LaneState>;
  /** Newest heartbeat per source: a quiet lane whose feed still beats is not stale. */
  sourceHeartbeats: Map<string, number>;
  /** Events received but not yet applied, waiting for the ones that may still overtake them. */
  pending: ReorderBuffer;
  /** Events that arrived after the watermark had passed them, sale-level kinds included. */
  lateEvents: number;
  attendance: AttendanceSum;
  staff: Staffing;
}

export interface EngineState {
  options: EngineOptions;
  sales: Map<string, SaleState>;
  /** Feeds are at-least-once: a resent event counts once. */
  seen: SeenEvents;
  duplicates: number;
}

export function createEngine(options: Partial<EngineOptions> = {}): EngineState {
  const all = { ...DEFAULT_ENGINE_OPTIONS, ...options };
  return { options: all, sales: new Map(), seen: new SeenEvents(all.dedupWindow), duplicates: 0 };
}

/**
 * The live entry point: takes one event as it arrives and applies every held event the sale's
 * watermark (its newest `ts` − `latenessMs`) has passed. An event older than the watermark is
 * counted late and applied at once. Returns false when the event was a repeat and changed nothing.
 * O(1) amortized for in-order input.
 */
export function ingest(state: EngineState, event: LaneEvent): boolean {
  if (state.seen.seenBefore(event)) {
    state.duplicates++;
    return false;
  }
  const sale = saleFor(state, event);
  if (event.ts > sale.latestTs) sale.latestTs = event.ts;
  if (!sale.pending.hold(event)) applyToSale(sale, event, true);
  releaseThrough(sale, sale.latestTs - state.options.latenessMs);
  return true;
}

/**
 * Releases what the passing of time allows even when no event comes: the server calls it on its
 * 1 s tick. `now` gives a sale's event-time now (sales run on unrelated clocks).
 */
export function advance(state: EngineState, now: (sale: string) => number): void {
  for (const sale of state.sales.values()) releaseThrough(sale, now(sale.sale) - state.options.latenessMs);
}

/** Applies every held event (end of a replay); anything older that still comes is late. */
export function flush(state: EngineState): void {
  for (const sale of state.sales.values()) releaseThrough(sale, sale.latestTs);
}

/** Forgets a sale that is over: its figures leave memory and the next checkpoint. */
export function retireSale(state: EngineState, sale: string): void {
  state.sales.delete(sale);
}

/**
 * Takes one event and applies it at once, with no reorder window: for tests and tools that feed
 * events in order. An event older than one already applied counts as late. Returns false for a
 * repeat.
 */
export function applyEvent(state: EngineState, event: LaneEvent): boolean {
  if (!ingest(state, event)) return false;
  const sale = state.sales.get(event.sale) as SaleState;
  releaseThrough(sale, sale.latestTs);
  return true;
}

function releaseThrough(sale: SaleState, watermark: number): void {
  sale.pending.releaseThrough(watermark, (event) => applyToSale(sale, event, false));
}

function applyToSale(sale: SaleState, event: LaneEvent, late: boolean): void {
  if (late) sale.lateEvents++;
  // The sale opened at its earliest event, `sale.opened` or not (it may have been missed).
  if (event.ts < sale.openedAt) sale.openedAt = event.ts;
  switch (event.type) {
    case 'sale.opened':
      sale.name = event.name;
      sale.open = true;
      sale.closedAt = null;
      return;
    case 'sale.closed':
      sale.name = event.name;
      sale.open = false;
      sale.closedAt = event.ts;
      return;
    case 'heartbeat':
      sale.sourceHeartbeats.set(event.source, Math.max(sale.sourceHeartbeats.get(event.source) ?? 0, event.ts));
      if (event.lane === undefined) return;
  }
  const laneId = laneOf(event);
  if (laneId === undefined) return;
  let lane = sale.lanes.get(laneId);
  if (!lane) sale.lanes.set(laneId, (lane = new LaneState(event.auction, event.sale, laneId)));
  if (late) lane.lateEvents++;
  const before = lane.onlineContribution;
  lane.apply(event, sale.staff);
  const after = lane.onlineContribution;
  if (after !== before) sale.attendance.change(event.ts, after - before);
}

function saleFor(state: EngineState, event: LaneEvent): SaleState {
  let sale = state.sales.get(event.sale);
  if (!sale) {
    // A sale is known from its first event even if its `sale.opened` was missed.
    sale = {
      auction: event.auction,
      sale: event.sale,
      name: event.sale,
      open: true,
      openedAt: event.ts,
      closedAt: null,
      latestTs: event.ts,
      lanes: new Map(),
      sourceHeartbeats: new Map(),
      pending: new ReorderBuffer(),
      lateEvents: 0,
      attendance: new AttendanceSum(),
      staff: new Staffing(),
    };
    state.sales.set(event.sale, sale);
  }
  return sale;
}

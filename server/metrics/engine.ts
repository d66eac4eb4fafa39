/**
 * The lane metrics engine: a deterministic state machine over contract events. `apply` is the
 * reducer (it updates the state in place, for speed, and reads no clock and does no I/O); the
 * snapshot functions in ./snapshot are pure functions of the state and a `now` the caller passes
 * in. The same events in the same order therefore give the same figures, live or replayed at 100×.
 */
import { SeenEvents, laneOf, type LaneEvent } from '../../collector/events';
import { LaneState } from './lane';

export interface SaleState {
  auction: string;
  sale: string;
  name: string;
  open: boolean;
  openedAt: number;
  closedAt: number | null;
  /** Newest event time seen in the sale: the sale's event-time "now" is derived from it. */
  latestTs: number;
  lanes: Map<string, LaneState>;
  /** Newest heartbeat per source: a quiet lane whose feed still beats is not stale. */
  sourceHeartbeats: Map<string, number>;
}

export interface EngineState {
  sales: Map<string, SaleState>;
  /** Feeds are at-least-once: a resent event counts once. */
  seen: SeenEvents;
  duplicates: number;
}

const DEDUP_WINDOW = 200_000;

export function createEngine(): EngineState {
  return { sales: new Map(), seen: new SeenEvents(DEDUP_WINDOW), duplicates: 0 };
}

/** Applies one event. Returns false when the event was a repeat and changed nothing. */
export function applyEvent(state: EngineState, event: LaneEvent): boolean {
  if (state.seen.seenBefore(event)) {
    state.duplicates++;
    return false;
  }

  const sale = saleFor(state, event);
  sale.latestTs = Math.max(sale.latestTs, event.ts);
  switch (event.type) {
    case 'sale.opened':
      sale.name = event.name;
      sale.open = true;
      sale.openedAt = Math.min(sale.openedAt, event.ts);
      sale.closedAt = null;
      return true;
    case 'sale.closed':
      sale.name = event.name;
      sale.open = false;
      sale.closedAt = event.ts;
      return true;
    case 'heartbeat':
      sale.sourceHeartbeats.set(event.source, Math.max(sale.sourceHeartbeats.get(event.source) ?? 0, event.ts));
      if (event.lane === undefined) return true;
  }
  const lane = laneOf(event);
  if (lane === undefined) return true;
  let laneState = sale.lanes.get(lane);
  if (!laneState) {
    laneState = new LaneState(event.auction, event.sale, lane);
    sale.lanes.set(lane, laneState);
  }
  laneState.apply(event);
  return true;
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
    };
    state.sales.set(event.sale, sale);
  }
  return sale;
}

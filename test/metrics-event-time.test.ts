/**
 * Event time: events up to `latenessMs` late are applied in `ts` order through each sale's reorder
 * buffer, released by the watermark, by `advance` and by `flush`; later ones are counted and
 * applied where they still can be.
 */
import { describe, expect, it } from 'vitest';
import type { LaneEvent } from '../collector/events';
import { advance, createEngine, flush, ingest, type EngineState } from '../server/metrics/engine';
import { laneSnapshot, saleLanes, saleTotals } from '../server/metrics/snapshot';
import { EventScript, SALE, script } from './helpers/script';

function ingestAll(engine: EngineState, events: readonly LaneEvent[]): EngineState {
  for (const event of events) ingest(engine, event);
  return engine;
}

function lane(engine: EngineState, seconds: number, id = '1') {
  const sale = engine.sales.get(SALE);
  const state = sale?.lanes.get(id);
  if (!sale || !state) throw new Error(`lane ${id} not in the engine`);
  return laneSnapshot(state, sale, EventScript.time(seconds));
}

/** Events of `s` in the order of `order` (indexes into s.events). */
function inOrder(events: readonly LaneEvent[], order: readonly number[]): LaneEvent[] {
  return order.map((i) => events[i] as LaneEvent);
}

describe('the reorder window', () => {
  // 0 opened @0, 1 up @10, 2 bid @11, 3 sold @20.
  const run = script().at(0).opened().at(10).up(1).at(11).bid(1, 500, 'floor').at(20).sold(1, 500).events;

  it('applies a bid that arrives before its vehicle, within 2 s, to the run', () => {
    const engine = ingestAll(createEngine(), inOrder(run, [0, 2, 1, 3]));
    flush(engine);
    expect(lane(engine, 21)).toMatchObject({ bidsPerVehicle: 1, timeToFirstBidSec: 1, lateEvents: 0 });
  });

  it('holds events until the newest event is 2 s past them', () => {
    const engine = ingestAll(createEngine(), run.slice(0, 3)); // newest 11 s: released through 9 s
    expect(lane(engine, 11).run).toBeNull();
    ingest(engine, script('1', 'other').at(12.5).attendance(7).events[0] as LaneEvent); // through 10.5 s
    expect(lane(engine, 12.5).run).toMatchObject({ run: 1, bids: 0 });
  });

  it('releases held events on the tick by the sale clock when the feed goes quiet', () => {
    const engine = ingestAll(createEngine(), run);
    expect(lane(engine, 20).offered).toBe(0);
    advance(engine, () => EventScript.time(21.5)); // through 19.5 s
    expect(lane(engine, 21.5)).toMatchObject({ offered: 0, run: { bids: 1 } });
    advance(engine, () => EventScript.time(22));
    expect(lane(engine, 22)).toMatchObject({ offered: 1, sold: 1, run: null });
  });

  it('takes the allowed lateness from the engine options', () => {
    // Up (10 s) arrives after the bid (11 s): exactly 1 s late, still in time for a 1 s window.
    const engine = ingestAll(createEngine({ latenessMs: 1000 }), inOrder(run, [0, 2, 1, 3]));
    flush(engine);
    expect(lane(engine, 21)).toMatchObject({ bidsPerVehicle: 1, lateEvents: 0 });
    const strict = ingestAll(createEngine({ latenessMs: 0 }), inOrder(run, [0, 2, 1, 3]));
    flush(strict);
    expect(lane(strict, 21)).toMatchObject({ bidsPerVehicle: 0, timeToFirstBidSec: null, lateEvents: 1 });
  });

  it('merges lanes in time order, so the sale peak is the sum at one instant', () => {
    const one = script('1').at(0).opened().attendance(10).at(10).attendance(5).events;
    const two = script('2').at(0).opened().at(9).attendance(7).events;
    // Lane 2's 9 s sample arrives after lane 1's 10 s one: 10, then 17 at 9 s, then 12 at 10 s.
    const arrival = [one[0], one[1], two[0], one[2], two[1]] as LaneEvent[];
    const engine = ingestAll(createEngine(), arrival);
    flush(engine);
    const sale = engine.sales.get(SALE);
    if (!sale) throw new Error('no sale');
    const now = EventScript.time(10);
    expect(saleTotals(sale, saleLanes(sale, now), now)).toMatchObject({
      onlineBidders: 12,
      onlineBiddersPeak: 17,
      lateEvents: 0,
    });
  });
});

describe('events later than the window', () => {
  it('counts them per lane and sale and applies them where they still can be', () => {
    const events = script()
      .at(0)
      .opened()
      .at(10)
      .up(1)
      .at(14)
      .attendance(30) // released through 12 s
      .at(11)
      .bid(1, 800, 'floor') // 3 s late: the run is still open, so the bid still counts for it
      .at(5)
      .attendance(99).events; // 9 s late: not the latest count, but the peak
    const engine = ingestAll(createEngine(), events);
    flush(engine);
    expect(lane(engine, 15)).toMatchObject({
      lateEvents: 2,
      run: { run: 1, bids: 1, highBid: 800 },
      timeToFirstBidSec: 1,
      onlineBidders: 30,
      onlineBiddersPeak: 99,
    });
    const sale = engine.sales.get(SALE);
    if (!sale) throw new Error('no sale');
    expect(sale.lateEvents).toBe(2);
  });

  it('counts an event older than what a flush released as late', () => {
    const engine = ingestAll(createEngine(), script().at(0).opened().at(20).attendance(5).events);
    flush(engine);
    ingest(engine, script('1', 'other').at(19).attendance(6).events[0] as LaneEvent);
    expect(lane(engine, 21)).toMatchObject({ lateEvents: 1, onlineBidders: 5 });
  });

  it('gives each sale its own watermark: a replay of last week is not late next to today', () => {
    const week = 7 * 24 * 3600;
    const today = script().at(0).opened().at(100).attendance(5).events;
    const lastWeek = script('1', 'replay', { sale: 'dallas-last-week' })
      .at(-week)
      .opened()
      .at(-week + 50)
      .attendance(8);
    const engine = ingestAll(createEngine(), [...today, ...lastWeek.events]);
    flush(engine);
    expect(engine.sales.get('dallas-last-week')?.lateEvents).toBe(0);
    expect(engine.sales.get('dallas-last-week')?.lanes.get('1')?.online).toBe(8);
  });
});

describe('intake', () => {
  it('drops a resent event before it is held, even while the first copy waits', () => {
    const events = script().at(0).opened().at(10).up(1).at(20).sold(1, 900).events;
    const engine = createEngine();
    expect(events.map((event) => ingest(engine, event))).toEqual([true, true, true]);
    expect(ingest(engine, events[2] as LaneEvent)).toBe(false);
    flush(engine);
    expect(engine.duplicates).toBe(1);
    expect(lane(engine, 21)).toMatchObject({ offered: 1, grossSales: 900 });
  });
});

import { describe, expect, it } from 'vitest';
import type { LaneEvent } from '../collector/events';
import { applyEvent, createEngine, type EngineState } from '../server/metrics/engine';
import { laneSnapshot, saleLanes, saleTotals } from '../server/metrics/snapshot';
import { EventScript, SALE, script } from './helpers/script';

function run(events: readonly LaneEvent[]): EngineState {
  const engine = createEngine();
  for (const event of events) applyEvent(engine, event);
  return engine;
}

function snapshotAt(events: readonly LaneEvent[], seconds: number, lane = '1') {
  const engine = run(events);
  const sale = engine.sales.get(SALE);
  const state = sale?.lanes.get(lane);
  if (!sale || !state) throw new Error(`lane ${lane} not in the engine`);
  return laneSnapshot(state, sale, EventScript.time(seconds));
}

/** Three runs: sold on the floor, an if-sale with a missed online bid, a no-sale without bids. */
function threeRuns() {
  return script()
    .at(0)
    .opened()
    .at(10)
    .up(1, { year: 2019, make: 'Ford', model: 'F-150', vin: '1FTEW1E55KFA00001', mmr: 5000 })
    .at(18)
    .bid(1, 5000, 'floor')
    .at(20)
    .submitted(1, 'b1', 5100, 'bidder-x')
    .at(21.5)
    .bid(1, 5100, 'online', 'b1')
    .at(25)
    .bid(1, 5200, 'floor')
    .at(60)
    .sold(1, 5200, 'floor')
    .at(65)
    .up(2, { mmr: 6000 })
    .at(68)
    .submitted(2, 'b2', 5000, 'bidder-y')
    .at(71)
    .bid(2, 5000, 'online', 'b2')
    .at(80)
    .submitted(2, 'b3', 5100, 'bidder-x')
    .at(100)
    .ifsale(2, 5000)
    .at(105)
    .up(3)
    .at(140)
    .nosale(3).events;
}

describe('lane pace and outcomes', () => {
  const lane = snapshotAt(threeRuns(), 150);

  it('counts offerings by outcome', () => {
    expect([lane.offered, lane.sold, lane.ifSale, lane.noSale, lane.unresolved]).toEqual([3, 1, 1, 1, 0]);
    expect(lane.saleThroughPct).toBeCloseTo(33.333, 3);
    expect(lane.conversionPct).toBeCloseTo(66.667, 3);
    expect(lane.grossSales).toBe(5200);
    expect(lane.onlineBuyerPct).toBe(0);
    expect(lane.priceToMmrPct).toBe(104);
  });

  it('takes seconds per vehicle and time to first bid as lower medians over the last runs', () => {
    expect(lane.secondsPerVehicle).toBe(35); // runs of 50, 35 and 35 s
    expect(lane.timeToFirstBidSec).toBe(6); // 8 s and 6 s: the lower middle
  });

  it('scales cars per hour up while the lane has been open less than an hour', () => {
    expect(lane.carsPerHour).toBe(72); // 3 runs in 2.5 minutes
  });

  it('reports idle time since the last outcome while no vehicle is up', () => {
    expect(lane.idleSeconds).toBe(10);
    expect(lane.run).toBeNull();
  });

  it('measures clerk latency as nearest-rank percentiles of accepted online bids', () => {
    expect(lane.clerkLatencyMs).toEqual({ p50: 1500, p95: 3000 });
  });

  it('counts an online bid never taken before the outcome as missed', () => {
    expect(lane.missedOnlineBids).toEqual({ sale: 1, last10Min: 1 });
    expect(snapshotAt(threeRuns(), 100 + 601).missedOnlineBids).toEqual({ sale: 1, last10Min: 0 });
  });

  it('measures hammer lead from the last online bid to the hammer on sold and if-sale runs', () => {
    expect(lane.hammerLeadSec).toBe(20); // 40 s (run 1) and 20 s (run 2)
  });

  it('rates bids per minute over the time open when the lane is younger than 5 minutes', () => {
    expect(lane.bidsPerMin).toEqual({ online: 0.8, floor: 0.8, proxy: 0 }); // 2 + 2 bids in 2.5 min
    expect(lane.onlineBidShare).toEqual({ saleToDate: 0.5, last15Min: 0.5 });
  });

  it('derives per-run participation and bid figures', () => {
    expect(lane.distinctOnlineBidders).toBe(2);
    expect(lane.bidsPerVehicle).toBeCloseTo(4 / 3, 10);
    expect(lane.onlineParticipationPct).toBeCloseTo(66.667, 3);
    expect(lane.blockErrorsPer100).toBe(0);
  });

  it('shows the current run by year, make and model, never the VIN', () => {
    const during = snapshotAt(threeRuns().slice(0, 5), 22);
    expect(during.run).toEqual({
      run: 1,
      vehicle: '2019 Ford F-150',
      upAt: EventScript.time(10),
      highBid: 5100,
      bids: 2,
    });
    expect(JSON.stringify(during)).not.toContain('1FTEW1E55KFA00001');
    expect(during.recentBids.map((b) => b.channel)).toEqual(['online', 'floor']);
  });

  it('uses bids per minute over the last 5 minutes once the lane is older', () => {
    const events = script()
      .at(0)
      .opened()
      .at(10)
      .up(1)
      .at(20)
      .bid(1, 100, 'online')
      .at(400)
      .bid(1, 200, 'floor').events;
    // At 600 s the 5-minute window (300–600 s) holds only the floor bid.
    expect(snapshotAt(events, 600).bidsPerMin).toEqual({ online: 0, floor: 0.2, proxy: 0 });
  });
});

describe('attendance', () => {
  // A sample every 30 s from 0 to 630 s: 10, 11, ... 31.
  const events = script().at(0).opened();
  for (let k = 0; k <= 21; k++) events.at(k * 30).attendance(10 + k);

  it('keeps the latest count and the peak', () => {
    const lane = snapshotAt(events.events, 630);
    expect(lane.onlineBidders).toBe(31);
    expect(lane.onlineBiddersPeak).toBe(31);
  });

  it('takes the baseline as the median of the last 10 minutes excluding the last one', () => {
    const lane = snapshotAt(events.events, 630);
    // Samples in [30 s, 570 s): 11..28, 18 values, lower middle = 19.
    expect(lane.attendanceBaseline).toBe(19);
    expect(lane.attendanceChangePct).toBeCloseTo((31 / 19 - 1) * 100, 10);
  });

  it('charts the last 30 minutes as chart-ready columns', () => {
    const lane = snapshotAt(events.events, 630);
    expect(lane.attendance.online).toHaveLength(22);
    expect(lane.attendance.ts[0]).toBe(EventScript.time(0));
    expect(lane.attendance.online.at(-1)).toBe(31);
  });

  it('ignores an older sample that arrives late for the current count', () => {
    const late = script().at(0).opened().at(60).attendance(40).at(50).attendance(12).events;
    expect(snapshotAt(late, 61).onlineBidders).toBe(40);
  });
});

describe('corrections', () => {
  it('moves a reversed sale to no-sale, takes its price out and counts a block error', () => {
    const events = script()
      .at(0)
      .opened()
      .at(1)
      .up(1)
      .at(5)
      .bid(1, 8000, 'online', 'x')
      .at(30)
      .sold(1, 8000, 'online')
      .at(40)
      .reversed(1).events;
    const lane = snapshotAt(events, 50);
    expect([lane.sold, lane.noSale, lane.grossSales, lane.offered]).toEqual([0, 1, 0, 1]);
    expect(lane.onlineBuyerPct).toBeNull();
    expect(lane.blockErrorsPer100).toBe(100);
  });

  it('applies an if-sale approved hours later at the high bid, crediting the online buyer', () => {
    const events = script()
      .at(0)
      .opened()
      .at(1)
      .up(7)
      .at(5)
      .submitted(7, 'b', 9000, 'x')
      .at(6)
      .bid(7, 9000, 'online', 'b')
      .at(30)
      .ifsale(7, 9000)
      .at(3 * 3600)
      .resolved(7, true).events;
    const lane = snapshotAt(events, 3 * 3600 + 1);
    expect([lane.sold, lane.ifSale, lane.grossSales, lane.onlineBuyerPct]).toEqual([1, 0, 9000, 100]);
  });

  it('moves a declined if-sale to no-sale, and uses the approved price when given', () => {
    const base = () => script().at(0).opened().at(1).up(1).at(5).bid(1, 4000, 'floor').at(30).ifsale(1, 4000);
    const declined = snapshotAt(base().at(100).resolved(1, false).events, 101);
    expect([declined.sold, declined.ifSale, declined.noSale]).toEqual([0, 0, 1]);
    const approved = snapshotAt(base().at(100).resolved(1, true, 4250).events, 101);
    expect([approved.sold, approved.grossSales, approved.onlineBuyerPct]).toEqual([1, 4250, 0]);
  });

  it('takes a retracted bid out of the bid counts and counts a block error', () => {
    const events = script()
      .at(0)
      .opened()
      .at(1)
      .up(1)
      .at(5)
      .bid(1, 100, 'floor')
      .at(6)
      .bid(1, 200, 'online')
      .at(7)
      .retracted(1, 200)
      .at(20)
      .nosale(1, 100).events;
    const lane = snapshotAt(events, 21);
    expect(lane.onlineBidShare.saleToDate).toBe(0);
    expect(lane.bidsPerVehicle).toBe(1);
    expect(lane.blockErrorsPer100).toBe(100);
    expect(lane.recentBids.map((b) => b.amount)).toEqual([100]);
  });

  it('counts a rerun vehicle as a new offering and the rerun as a block error', () => {
    const events = script()
      .at(0)
      .opened()
      .at(1)
      .up(5)
      .at(30)
      .nosale(5)
      .at(40)
      .rerun(5)
      .at(41)
      .up(5)
      .at(70)
      .sold(5, 3000).events;
    const lane = snapshotAt(events, 71);
    expect([lane.offered, lane.sold, lane.noSale, lane.grossSales]).toEqual([2, 1, 1, 3000]);
    expect(lane.blockErrorsPer100).toBe(50);
  });

  it('ends a run cut short by the next vehicle as an unresolved no-sale', () => {
    const events = script().at(0).opened().at(1).up(1).at(50).up(2).events;
    const lane = snapshotAt(events, 55);
    expect([lane.offered, lane.noSale, lane.unresolved]).toEqual([1, 1, 1]);
    expect(lane.run?.run).toBe(2);
    expect(lane.secondsPerVehicle).toBe(49);
  });
});

describe('feed health', () => {
  it('counts messages lost to seq jumps, not late or repeated ones', () => {
    const s = script().at(0);
    for (const seq of [1, 2, 5, 6, 4, 9, 9]) s.attendance(10).withSeq(seq);
    expect(snapshotAt(s.events, 1).feedGaps).toBe(3); // 3, 7 and 8 never came; 4 came late
  });

  it('counts a gap once per source and lane', () => {
    const a = script('1', 'feed-a').at(0);
    for (const seq of [1, 2, 10]) a.attendance(10).withSeq(seq); // 3–9 lost
    const b = script('1', 'feed-b').at(0);
    for (const seq of [100, 101, 103]) b.attendance(10).withSeq(seq); // 102 lost
    expect(snapshotAt([...a.events, ...b.events], 1).feedGaps).toBe(8);
  });

  it('ignores an event whose id was already seen from the same source', () => {
    const events = script().at(0).opened().at(1).up(1).at(30).sold(1, 1000).events;
    const lane = snapshotAt([...events, events[2] as LaneEvent], 31);
    expect(lane.sold).toBe(1);
    expect(lane.grossSales).toBe(1000);
  });

  it('marks a lane stale when neither it nor its source has spoken for 15 s', () => {
    const lane = script('1', 'feed-a').at(0).opened().at(100).attendance(20);
    const feed = lane.at(110).heartbeat();
    expect(snapshotAt(feed.events, 124)).toMatchObject({ feedAgeSec: 14, stale: false });
    expect(snapshotAt(feed.events, 126)).toMatchObject({ feedAgeSec: 16, stale: true });
  });

  it('keeps the latest stream latency', () => {
    const events = script().at(0).opened().at(5).streamHealth(900).at(15).streamHealth(4200).events;
    expect(snapshotAt(events, 16).streamLatencyMs).toBe(4200);
  });
});

describe('edge cases', () => {
  it('reports an empty lane with counts of zero and figures not yet known', () => {
    const lane = snapshotAt(script().at(0).opened('Ann', 'Carl').events, 30);
    expect(lane).toMatchObject({
      auctioneer: 'Ann',
      clerk: 'Carl',
      state: 'open',
      offered: 0,
      grossSales: 0,
      onlineBidders: null,
      attendanceBaseline: null,
      secondsPerVehicle: null,
      saleThroughPct: null,
      clerkLatencyMs: { p50: null, p95: null },
      onlineBidShare: { saleToDate: null, last15Min: null },
      idleSeconds: 30,
      onlineBiddersPeak: null,
      attendanceChangePct: null,
      distinctOnlineBidders: 0,
      bidsPerMin: { online: 0, floor: 0, proxy: 0 },
      carsPerHour: 0,
      timeToFirstBidSec: null,
      bidsPerVehicle: null,
      conversionPct: null,
      onlineBuyerPct: null,
      priceToMmrPct: null,
      missedOnlineBids: { sale: 0, last10Min: 0 },
      hammerLeadSec: null,
      onlineParticipationPct: null,
      blockErrorsPer100: null,
      feedGaps: 0,
      lateEvents: 0,
      streamLatencyMs: null,
      feedAgeSec: 30,
      run: null,
      recentBids: [],
      attendance: { ts: [], online: [] },
    });
  });

  it('reports a lane with only floor bids as 0 % online with no clerk latency', () => {
    const events = script().at(0).opened().at(1).up(1).at(5).bid(1, 100, 'floor').at(30).sold(1, 100).events;
    const lane = snapshotAt(events, 31);
    expect(lane.onlineBidShare).toEqual({ saleToDate: 0, last15Min: 0 });
    expect(lane.clerkLatencyMs).toEqual({ p50: null, p95: null });
    expect(lane.hammerLeadSec).toBeNull();
    expect(lane).toMatchObject({
      distinctOnlineBidders: 0,
      onlineBuyerPct: 0,
      onlineParticipationPct: 0,
      missedOnlineBids: { sale: 0, last10Min: 0 },
      bidsPerMin: { online: 0, floor: 1 / (31 / 60), proxy: 0 },
    });
  });

  it('shows a staff change from the moment it happens, mid-run', () => {
    const events = script().at(0).opened('Ann', 'Carl').at(1).up(1).at(10).staff({ clerk: 'Dana' }).events;
    expect(snapshotAt(events, 11)).toMatchObject({ auctioneer: 'Ann', clerk: 'Dana', run: { run: 1 } });
  });

  it('closes a lane, ending its open run', () => {
    const events = script().at(0).opened().at(1).up(1).at(20).closed().events;
    expect(snapshotAt(events, 30)).toMatchObject({ state: 'closed', offered: 1, unresolved: 1, stale: false });
  });
});

describe('sale totals', () => {
  it('sums the lanes and agrees with their tiles', () => {
    const events = [
      ...script('1')
        .at(0)
        .opened()
        .at(1)
        .up(1)
        .at(5)
        .bid(1, 500, 'online')
        .at(6)
        .attendance(12)
        .at(30)
        .sold(1, 500, 'online').events,
      ...script('2').at(0).opened().at(1).up(1).at(5).bid(1, 700, 'floor').at(7).attendance(8).at(30).nosale(1).events,
    ];
    const engine = run(events);
    const sale = engine.sales.get(SALE);
    if (!sale) throw new Error('no sale');
    const now = EventScript.time(31);
    const totals = saleTotals(sale, saleLanes(sale, now), now);
    expect(totals).toMatchObject({
      lanes: 2,
      offered: 2,
      sold: 1,
      noSale: 1,
      saleThroughPct: 50,
      grossSales: 500,
      onlineBidders: 20,
      bids: { online: 1, floor: 1, proxy: 0 },
      onlineBidShare: 0.5,
      state: 'open',
    });
  });
});

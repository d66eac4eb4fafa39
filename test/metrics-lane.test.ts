/**
 * The lane figures of METRICS.md over their windows: each pinned on a sequence where the window
 * (last 10 runs, last 20 online bids, last 60 / 15 minutes) changes the answer.
 */
import { describe, expect, it } from 'vitest';
import type { LaneEvent } from '../collector/events';
import { applyEvent, createEngine } from '../server/metrics/engine';
import { laneFigures, laneSnapshot } from '../server/metrics/snapshot';
import type { LaneFigures, LaneSnapshot } from '../server/wire';
import { EventScript, SALE, script } from './helpers/script';

function laneAt(events: readonly LaneEvent[], seconds: number): LaneSnapshot;
function laneAt(events: readonly LaneEvent[], seconds: number, figures: typeof laneFigures): LaneFigures;
function laneAt(events: readonly LaneEvent[], seconds: number, figures: typeof laneFigures = laneSnapshot) {
  const engine = createEngine();
  for (const event of events) applyEvent(engine, event);
  const sale = engine.sales.get(SALE);
  const lane = sale?.lanes.get('1');
  if (!sale || !lane) throw new Error('lane 1 not in the engine');
  return figures(lane, sale, EventScript.time(seconds));
}

describe('pace over the last runs', () => {
  it('takes seconds per vehicle as the lower median of the last 10 runs only', () => {
    const s = script().at(0).opened();
    let t = 0;
    [100, 100, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95].forEach((seconds, i) => {
      s.at(t)
        .up(i + 1)
        .at(t + seconds)
        .nosale(i + 1);
      t += seconds + 5;
    });
    // The last 10: 10..90 and 95 → lower middle 50 (all 12 would give 60).
    expect(laneAt(s.events, t).secondsPerVehicle).toBe(50);
  });

  it('counts the finished runs of the last 60 minutes once the lane is an hour old', () => {
    const s = script().at(0).opened();
    for (const [run, end] of [600, 1200, 2000, 3000, 4000, 5000].entries()) {
      s.at(end - 30)
        .up(run + 1)
        .at(end)
        .nosale(run + 1);
    }
    // At 90 min the window is 30–90 min: the runs ending at 2000, 3000, 4000 and 5000 s.
    expect(laneAt(s.events, 5400).carsPerHour).toBe(4);
  });

  it('takes time to first bid once per run, even when the first bid is retracted', () => {
    const events = script()
      .at(0)
      .opened()
      .at(10)
      .up(1)
      .at(14)
      .bid(1, 100, 'floor')
      .at(15)
      .retracted(1, 100)
      .at(20)
      .bid(1, 200, 'floor')
      .at(30)
      .sold(1, 200)
      .at(40)
      .up(2)
      .at(46)
      .bid(2, 300, 'floor')
      .at(60)
      .nosale(2).events;
    const lane = laneAt(events, 61);
    expect(lane.timeToFirstBidSec).toBe(4); // 4 s and 6 s: the lower middle
    expect(lane.bidsPerVehicle).toBe(1);
  });
});

describe('bids', () => {
  it('measures clerk latency over the last 20 online bids only', () => {
    const s = script().at(0).opened().at(1).up(1);
    const latenciesMs = [...Array<number>(5).fill(10_000), ...Array.from({ length: 20 }, (_, i) => (i + 1) * 100)];
    latenciesMs.forEach((ms, i) => {
      const at = 10 + i * 30;
      s.at(at)
        .submitted(1, `b${i}`, 1000 + i)
        .at(at + ms / 1000)
        .bid(1, 1000 + i, 'online', `b${i}`);
    });
    // 100..2000 ms: p50 = 10th value, p95 = 19th (the five 10 s latencies have left the window).
    expect(laneAt(s.events, 800).clerkLatencyMs).toEqual({ p50: 1000, p95: 1900 });
  });

  it('gives the online share of accepted bids to date and over the last 15 minutes', () => {
    const events = script()
      .at(0)
      .opened()
      .at(30)
      .up(1)
      .at(60)
      .bid(1, 100, 'online')
      .at(120)
      .bid(1, 200, 'online')
      .at(180)
      .bid(1, 300, 'floor')
      .at(1200)
      .bid(1, 400, 'floor')
      .at(1260)
      .bid(1, 500, 'floor').events;
    expect(laneAt(events, 1300).onlineBidShare).toEqual({ saleToDate: 0.4, last15Min: 0 });
  });
});

describe('outcomes', () => {
  /** Ratios 90 %, 110 %, an if-sale at 95 % pending, 105 % reversed, and a sale without mmr. */
  const sale = () =>
    script()
      .at(0)
      .opened()
      .at(10)
      .up(1, { mmr: 10_000 })
      .at(20)
      .sold(1, 9000)
      .at(30)
      .up(2, { mmr: 10_000 })
      .at(40)
      .sold(2, 11_000)
      .at(50)
      .up(3, { mmr: 20_000 })
      .at(55)
      .bid(3, 19_000, 'floor')
      .at(60)
      .ifsale(3, 19_000)
      .at(70)
      .up(4)
      .at(80)
      .sold(4, 5000)
      .at(90)
      .up(5, { mmr: 10_000 })
      .at(100)
      .sold(5, 10_500)
      .at(110)
      .reversed(5);

  it('takes price to MMR as the lower median over sold runs with an mmr, without reversed ones', () => {
    expect(laneAt(sale().events, 120).priceToMmrPct).toBe(90); // 90 and 110
  });

  it('adds an if-sale to price to MMR when it is approved hours later', () => {
    const events = sale()
      .at(4 * 3600)
      .resolved(3, true).events;
    const lane = laneAt(events, 4 * 3600 + 1);
    expect(lane.priceToMmrPct).toBe(95); // 90, 95, 110
    expect([lane.sold, lane.ifSale, lane.noSale, lane.grossSales]).toEqual([4, 0, 1, 44_000]);
  });
});

describe('attendance and the feed', () => {
  it('keeps the peak apart from the latest count', () => {
    const events = script().at(0).opened().at(5).attendance(10).at(10).attendance(25).at(15).attendance(12).events;
    expect(laneAt(events, 16)).toMatchObject({ onlineBidders: 12, onlineBiddersPeak: 25 });
  });

  it('keeps the newest stream latency by event time, not by arrival', () => {
    const events = script().at(0).opened().at(15).streamHealth(4200).at(5).streamHealth(900).events;
    expect(laneAt(events, 16)).toMatchObject({ streamLatencyMs: 4200, lateEvents: 1 });
  });

  it('gives the figures without the attendance chart for the history recorder', () => {
    const events = script().at(0).opened().at(5).attendance(10).at(10).up(1).at(20).sold(1, 700).events;
    const figures = laneAt(events, 30, laneFigures);
    expect(figures).not.toHaveProperty('attendance');
    expect(figures).toMatchObject({ onlineBidders: 10, offered: 1, grossSales: 700, idleSeconds: 10 });
  });
});

/**
 * Roll-ups: one row per auctioneer and per clerk over the runs and bids attributed to them, sale
 * totals with the online bidders summed over open lanes, and a site over its sales. Every value is
 * worked out by hand from the sequence.
 */
import { describe, expect, it } from 'vitest';
import type { LaneEvent } from '../collector/events';
import { createEngine, flush, ingest, type SaleState } from '../server/metrics/engine';
import { saleSummary, siteSummary } from '../server/metrics/summary';
import { EventScript, SALE, script } from './helpers/script';

/** The sales after every event, fed in time order through the buffered entry point. */
function salesOf(...scripts: readonly (readonly LaneEvent[])[]): Map<string, SaleState> {
  const engine = createEngine();
  for (const event of scripts.flat().sort((a, b) => a.ts - b.ts)) ingest(engine, event);
  flush(engine);
  return engine.sales;
}

function saleOf(sales: Map<string, SaleState>, id = SALE): SaleState {
  const sale = sales.get(id);
  if (!sale) throw new Error(`sale ${id} not in the engine`);
  return sale;
}

/**
 * Lane 1 (Ann; Carl, then Dana from 95 s, in the middle of run 2): run 1 sold on the floor, later
 * reversed; run 2 an if-sale with a retracted online bid, approved 3 hours later; run 3 passed
 * with an online bid never taken. Lane 2 (Bob, Eve): a pass, a rerun, then sold.
 */
function staffedSale(): LaneEvent[][] {
  const lane1 = script('1')
    .at(0)
    .opened('Ann', 'Carl')
    .at(10)
    .up(1)
    .at(20)
    .submitted(1, 'b1', 5000, 'x')
    .at(22)
    .bid(1, 5000, 'online', 'b1')
    .at(30)
    .bid(1, 6000, 'floor')
    .at(60)
    .sold(1, 6000, 'floor')
    .at(80)
    .up(2)
    .at(85)
    .bid(2, 6500, 'floor')
    .at(90)
    .submitted(2, 'b2', 6800, 'y')
    .at(95)
    .staff({ clerk: 'Dana' })
    .at(96)
    .bid(2, 6800, 'online', 'b2')
    .at(97)
    .retracted(2, 6800)
    .at(100)
    .bid(2, 7000, 'floor')
    .at(120)
    .ifsale(2, 7000)
    .at(130)
    .up(3)
    .at(135)
    .submitted(3, 'b3', 4000, 'x')
    .at(150)
    .nosale(3)
    .at(10_800)
    .resolved(2, true)
    .at(10_900)
    .reversed(1)
    .at(11_000)
    .closed('Ann', 'Dana');
  const lane2 = script('2')
    .at(0)
    .opened('Bob', 'Eve')
    .at(20)
    .up(7)
    .at(40)
    .nosale(7)
    .at(50)
    .rerun(7)
    .at(55)
    .up(7)
    .at(60)
    .bid(7, 3000, 'floor')
    .at(70)
    .sold(7, 3000)
    .at(100)
    .closed('Bob', 'Eve');
  return [lane1.events, lane2.events];
}

describe('staff rows', () => {
  const summary = saleSummary(saleOf(salesOf(...staffedSale())), EventScript.time(11_001));
  const row = <T extends { name: string }>(rows: T[], name: string) => rows.find((r) => r.name === name);

  it('lists each auctioneer and clerk once, by name', () => {
    expect(summary.auctioneers.map((r) => [r.name, r.lanes])).toEqual([
      ['Ann', ['1']],
      ['Bob', ['2']],
    ]);
    expect(summary.clerks.map((r) => [r.name, r.lanes])).toEqual([
      ['Carl', ['1']],
      ['Dana', ['1']],
      ['Eve', ['2']],
    ]);
  });

  it('gives the auctioneer every run and bid of their lane, corrections included', () => {
    const ann = row(summary.auctioneers, 'Ann');
    expect(ann).toMatchObject({
      offered: 3,
      sold: 1, // run 2 approved; run 1 reversed
      ifSale: 0,
      noSale: 2,
      unresolved: 0,
      grossSales: 7000,
      onlineBuyerPct: 0,
      bids: { online: 1, floor: 3, proxy: 0 }, // the retracted online bid is taken back
      onlineBidShare: 0.25,
      onlineParticipationPct: 100,
      missedOnlineBids: 1,
      meanTimeToFirstBidSec: 8.5, // 12 s and 5 s; run 3 had no bid
      meanHammerLeadSec: 35, // 40 s (run 1) and 30 s (run 2)
      meanClerkLatencyMs: 4000, // 2000 and 6000 ms
    });
    expect(ann?.saleThroughPct).toBeCloseTo(100 / 3, 10);
    expect(ann?.conversionPct).toBeCloseTo(100 / 3, 10);
    expect(ann?.bidsPerVehicle).toBeCloseTo(4 / 3, 10);
    expect(ann?.meanSecondsPerVehicle).toBeCloseTo(110 / 3, 10); // 50, 40 and 20 s
    expect(ann?.workedMin).toBeCloseTo(11_000 / 60, 10);
    expect(ann?.carsPerHour).toBeCloseTo((3 * 3600) / 11_000, 10);
    expect(ann).not.toHaveProperty('blockErrors');
  });

  it('splits a run that changed clerks: bids to the clerk of the moment, the run to the clerk at its outcome', () => {
    const carl = row(summary.clerks, 'Carl');
    expect(carl).toMatchObject({
      offered: 1, // run 1; run 2 ended under Dana
      sold: 0,
      noSale: 1, // reversed
      grossSales: 0,
      bids: { online: 1, floor: 2, proxy: 0 }, // run 1's two and run 2's 85 s bid
      bidsPerVehicle: 2,
      meanSecondsPerVehicle: 50,
      meanTimeToFirstBidSec: 12,
      meanHammerLeadSec: 40,
      meanClerkLatencyMs: 2000,
      missedOnlineBids: 0,
      blockErrors: 1, // the reversal, though Dana was on the lane when it came
      blockErrorsPer100: 100,
    });
    expect(carl?.onlineBidShare).toBeCloseTo(1 / 3, 10);
    expect(carl?.workedMin).toBeCloseTo(95 / 60, 10);
    expect(carl?.carsPerHour).toBeCloseTo(3600 / 95, 10);

    const dana = row(summary.clerks, 'Dana');
    expect(dana).toMatchObject({
      offered: 2,
      sold: 1,
      noSale: 1,
      grossSales: 7000,
      saleThroughPct: 50,
      conversionPct: 50,
      bids: { online: 0, floor: 1, proxy: 0 }, // her online bid was retracted
      onlineBidShare: 0,
      bidsPerVehicle: 1, // run 2 ended with 2 bids, run 3 with none
      onlineParticipationPct: 100,
      missedOnlineBids: 1,
      meanSecondsPerVehicle: 30,
      meanTimeToFirstBidSec: 5,
      meanHammerLeadSec: 30,
      meanClerkLatencyMs: 6000,
      blockErrors: 1, // the retraction
      blockErrorsPer100: 50,
    });
    expect(dana?.workedMin).toBeCloseTo(10_905 / 60, 10);
    expect(dana?.carsPerHour).toBeCloseTo((2 * 3600) / 10_905, 10);
  });

  it('counts a rerun as the clerk’s block error and its next outcome as a new offering', () => {
    expect(row(summary.clerks, 'Eve')).toMatchObject({
      offered: 2,
      sold: 1,
      noSale: 1,
      grossSales: 3000,
      bidsPerVehicle: 0.5,
      meanSecondsPerVehicle: 17.5,
      meanTimeToFirstBidSec: 5,
      meanHammerLeadSec: null,
      meanClerkLatencyMs: null,
      onlineParticipationPct: 0,
      blockErrors: 1,
      blockErrorsPer100: 50,
      carsPerHour: 72,
    });
  });

  it('adds up the sale', () => {
    expect(summary).toMatchObject({
      lanes: 2,
      offered: 5,
      sold: 2,
      ifSale: 0,
      noSale: 3,
      unresolved: 0,
      grossSales: 10_000,
      saleThroughPct: 40,
      conversionPct: 40,
      onlineBuyerPct: 0,
      bids: { online: 1, floor: 4, proxy: 0 },
      onlineBidShare: 0.2,
      bidsPerVehicle: 1,
      onlineParticipationPct: 60,
      missedOnlineBids: 1,
      blockErrors: 3,
      blockErrorsPer100: 60,
      lateEvents: 0,
    });
  });
});

describe('an empty sale', () => {
  it('has rows for the staff on the lane and figures not yet known', () => {
    const summary = saleSummary(saleOf(salesOf(script().at(0).opened('Ann', 'Carl').events)), EventScript.time(60));
    expect(summary).toMatchObject({ offered: 0, saleThroughPct: null, onlineBidShare: null, blockErrorsPer100: null });
    expect(summary.auctioneers).toEqual([
      {
        name: 'Ann',
        lanes: ['1'],
        workedMin: 1,
        offered: 0,
        sold: 0,
        ifSale: 0,
        noSale: 0,
        unresolved: 0,
        saleThroughPct: null,
        conversionPct: null,
        onlineBuyerPct: null,
        grossSales: 0,
        bidsPerVehicle: null,
        bids: { online: 0, floor: 0, proxy: 0 },
        onlineBidShare: null,
        onlineParticipationPct: null,
        missedOnlineBids: 0,
        carsPerHour: 0,
        meanSecondsPerVehicle: null,
        meanTimeToFirstBidSec: null,
        meanHammerLeadSec: null,
        meanClerkLatencyMs: null,
      },
    ]);
    expect(summary.clerks).toMatchObject([{ name: 'Carl', workedMin: 1, blockErrors: 0, blockErrorsPer100: null }]);
  });
});

describe('online bidders summed over open lanes', () => {
  // Lane 1: 10 from 0 s, 4 from 120 s. Lane 2 (60–180 s): 20. Sum: 10, 30, 24, 4.
  const today = () => [
    script('1').at(0).saleOpened().opened().attendance(10).at(20).up(1).at(30).sold(1, 1000).at(120).attendance(4)
      .events,
    script('2').at(60).opened().attendance(20).at(180).closed().events,
  ];
  // A sale the day before: one lane at 8 for its 120 s, one online sale.
  const DAY = 24 * 3600;
  const yesterday = () =>
    script('1', 'feed-b', { sale: 'dallas-b' })
      .at(-DAY)
      .saleOpened()
      .opened()
      .attendance(8)
      .at(-DAY + 10)
      .up(1)
      .at(-DAY + 15)
      .bid(1, 2000, 'online')
      .at(-DAY + 20)
      .sold(1, 2000, 'online')
      .at(-DAY + 120)
      .saleClosed().events;

  it('takes the sale peak and the time-weighted average of the sum', () => {
    const summary = saleSummary(saleOf(salesOf(...today())), EventScript.time(240));
    // (10·60 + 30·60 + 24·60 + 4·60) / 240 = 4080 / 240.
    expect(summary).toMatchObject({ onlineBidders: 4, onlineBiddersPeak: 30, onlineBiddersAverage: 17 });
  });

  it('rolls a site up over its sales, weighting the average by each sale’s open time', () => {
    const sales = salesOf(...today(), yesterday());
    const site = siteSummary('dallas', [...sales.values()], () => EventScript.time(240));
    expect(site).toMatchObject({
      auction: 'dallas',
      sales: 2,
      openSales: 1,
      onlineBidders: 4,
      onlineBiddersPeak: 30,
      onlineBiddersAverage: 14, // (4080 + 960) / (240 + 120)
      offered: 2,
      sold: 2,
      grossSales: 3000,
      onlineBuyerPct: 50,
      bids: { online: 1, floor: 0, proxy: 0 },
      onlineBidShare: 1,
      blockErrors: 0,
      lateEvents: 0,
    });
  });
});

/** The pure parts of lane history: which figures are stored, how a range and step are chosen, merging sale lists. */
import { describe, expect, it } from 'vitest';
import { HISTORY_METRICS, historyFigures } from '../server/history/figures';
import { planRange } from '../server/history/query';
import { mergeSales } from '../server/history/sales';
import type { LaneSnapshot, SaleInfo } from '../server/wire';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 23, 14, 0);

/** Every numeric figure has its own value, so a figure read from the wrong field shows. */
const snapshot: LaneSnapshot = {
  auction: 'dallas',
  sale: 's',
  lane: '1',
  auctioneer: 'Ann',
  clerk: 'Carl',
  state: 'open',
  stale: false,
  run: null,
  recentBids: [],
  onlineBidders: 1,
  onlineBiddersPeak: 2,
  attendanceBaseline: 3,
  attendanceChangePct: -4,
  distinctOnlineBidders: 5,
  bids: { online: 46, floor: 47, proxy: 48 },
  bidsPerMin: { online: 6, floor: 7, proxy: 8 },
  onlineBidShare: { saleToDate: 0.9, last15Min: 0.1 },
  secondsPerVehicle: 11,
  carsPerHour: 12,
  idleSeconds: null,
  timeToFirstBidSec: 14,
  bidsPerVehicle: 15,
  offered: 16,
  sold: 17,
  ifSale: 18,
  noSale: 19,
  unresolved: 20,
  saleThroughPct: 21,
  conversionPct: 22,
  onlineBuyerPct: 23,
  grossSales: 24,
  priceToMmrPct: 25,
  clerkLatencyMs: { p50: 26, p95: 27 },
  missedOnlineBids: { sale: 28, last10Min: 29 },
  hammerLeadSec: 30,
  onlineParticipationPct: 31,
  blockErrorsPer100: 32,
  feedGaps: 33,
  lateEvents: 36,
  streamLatencyMs: 34,
  feedAgeSec: 35,
  attendance: { ts: [T0], online: [1] },
};

describe('history figures', () => {
  it('reads every stored metric from its snapshot field, nested ones flattened', () => {
    expect(historyFigures(snapshot)).toEqual({
      onlineBidders: 1,
      onlineBiddersPeak: 2,
      attendanceBaseline: 3,
      attendanceChangePct: -4,
      distinctOnlineBidders: 5,
      bidsPerMinOnline: 6,
      bidsPerMinFloor: 7,
      bidsPerMinProxy: 8,
      onlineBidShareSaleToDate: 0.9,
      onlineBidShareLast15Min: 0.1,
      secondsPerVehicle: 11,
      carsPerHour: 12,
      idleSeconds: null,
      timeToFirstBidSec: 14,
      bidsPerVehicle: 15,
      offered: 16,
      sold: 17,
      ifSale: 18,
      noSale: 19,
      saleThroughPct: 21,
      conversionPct: 22,
      onlineBuyerPct: 23,
      grossSales: 24,
      priceToMmrPct: 25,
      clerkLatencyMsP50: 26,
      clerkLatencyMsP95: 27,
      missedOnlineBidsSale: 28,
      missedOnlineBidsLast10Min: 29,
      hammerLeadSec: 30,
      onlineParticipationPct: 31,
      blockErrorsPer100: 32,
      feedGaps: 33,
      lateEvents: 36,
      streamLatencyMs: 34,
      feedAgeSec: 35,
    });
  });

  it('lists exactly the metrics it stores', () => {
    expect([...HISTORY_METRICS].sort()).toEqual(Object.keys(historyFigures(snapshot)).sort());
  });
});

describe('history range', () => {
  const now = T0 + 5 * 60 * MIN;

  it('ends at the lane’s newest point and spans 30 min when no bound is given', () => {
    expect(planRange({}, T0, now)).toEqual({ ok: true, from: T0 - 30 * MIN, to: T0, stepSec: 2 });
  });

  it('ends now when the lane has no history', () => {
    expect(planRange({}, undefined, now)).toEqual({ ok: true, from: now - 30 * MIN, to: now, stepSec: 2 });
  });

  it('completes a single bound with 30 min on the other side', () => {
    expect(planRange({ from: T0 }, T0 + 99 * MIN, now)).toMatchObject({ from: T0, to: T0 + 30 * MIN });
    expect(planRange({ to: T0 }, T0 + 99 * MIN, now)).toMatchObject({ from: T0 - 30 * MIN, to: T0 });
  });

  it('chooses the smallest round step that keeps the answer within ~1000 points, never below 1 s', () => {
    const stepFor = (spanMs: number) => {
      const plan = planRange({ from: T0, to: T0 + spanMs }, undefined, now);
      return plan.ok ? plan.stepSec : undefined;
    };
    expect(stepFor(0)).toBe(1);
    expect(stepFor(10 * MIN)).toBe(1);
    expect(stepFor(30 * MIN)).toBe(2);
    expect(stepFor(8 * 60 * MIN)).toBe(30);
    expect(stepFor(24 * 60 * MIN)).toBe(120);
    expect(stepFor(5 * 365 * 24 * 60 * MIN)).toBe(2 * 86_400);
  });

  it('keeps an explicit step', () => {
    expect(planRange({ from: T0, to: T0 + 60 * MIN, stepSec: 15 }, undefined, now)).toMatchObject({ stepSec: 15 });
  });

  it('refuses a range that ends before it starts', () => {
    expect(planRange({ from: T0 + 1, to: T0 }, undefined, now)).toEqual({
      ok: false,
      reason: 'from (2026-11-23T14:00:00.001Z) is after to (2026-11-23T14:00:00.000Z)',
    });
  });

  it('refuses more than 10,000 points and names the smallest step that fits', () => {
    expect(planRange({ from: T0, to: T0 + 9999 * 1000, stepSec: 1 }, undefined, now)).toMatchObject({ ok: true });
    expect(planRange({ from: T0, to: T0 + 10_000 * 1000, stepSec: 1 }, undefined, now)).toEqual({
      ok: false,
      reason: 'range too large for step: 10001 points of 1s (at most 10000); use step=2s or more, or a shorter range',
    });
  });
});

describe('merging the live and stored sale lists', () => {
  const sale = (id: string, openedAt: number, state: SaleInfo['state'], lanes: number): SaleInfo => ({
    auction: 'dallas',
    sale: id,
    name: id,
    state,
    openedAt,
    lanes,
  });

  it('lists each sale once, the live entry winning, newest first', () => {
    const live = [sale('today', T0, 'open', 8)];
    const stored = [sale('today', T0, 'open', 5), sale('last-week', T0 - 7 * 24 * 60 * MIN, 'closed', 6)];
    expect(mergeSales(live, stored)).toEqual([live[0], stored[1]]);
    expect(mergeSales([], stored)).toEqual(stored);
    expect(
      mergeSales([sale('older', T0 - MIN, 'closed', 1)], [sale('newer', T0, 'open', 2)]).map((s) => s.sale),
    ).toEqual(['newer', 'older']);
  });
});

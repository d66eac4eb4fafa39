/**
 * Pure roll-ups of the engine state: a sale's summary with one row per auctioneer and per clerk
 * (`GET /api/sales/:sale/summary`), and a site's summary over its sales. Figures: METRICS.md;
 * how runs and bids are attributed to people: ./tally.
 */
import type { ClerkFigures, SaleSummary, SiteSummary, StaffFigures } from '../wire';
import type { SaleState } from './engine';
import { laneFigures, per100, runFigures, saleCounts, saleTotals, type SnapshotOptions } from './snapshot';
import { RunTally, type StaffTally } from './tally';

const MIN = 60_000;
const HOUR = 60 * MIN;

export function saleSummary(sale: SaleState, now: number, options?: SnapshotOptions): SaleSummary {
  const openShifts = openShiftsMs(sale, sale.closedAt ?? now);
  const worked = (tally: StaffTally, shifts: Map<string, number>, name: string) =>
    tally.workedMs + (shifts.get(name) ?? 0);
  const auctioneers = [...sale.staff.auctioneers].map(([name, tally]) =>
    staffFigures(name, tally, worked(tally, openShifts.auctioneer, name)),
  );
  const clerks = [...sale.staff.clerks].map(([name, tally]): ClerkFigures => ({
    ...staffFigures(name, tally, worked(tally, openShifts.clerk, name)),
    blockErrors: tally.blockErrors,
    blockErrorsPer100: per100(tally.blockErrors, tally.offered),
  }));
  const lanes = [...sale.lanes.values()].map((lane) => laneFigures(lane, sale, now, options));
  return {
    ...saleTotals(sale, lanes, now),
    auctioneers: auctioneers.sort(byName),
    clerks: clerks.sort(byName),
  };
}

/**
 * A site's sales rolled up; `now` gives each sale's event-time now. The peak is the highest of its
 * sales' peaks (a site runs one sale at a time), the average is weighted by each sale's open time.
 */
export function siteSummary(auction: string, sales: readonly SaleState[], now: (sale: string) => number): SiteSummary {
  const tally = new RunTally();
  let feedGaps = 0;
  let lateEvents = 0;
  let onlineBidders = 0;
  let peak = 0;
  /** ∫ online bidders dt and the open time it was taken over, over all sales. */
  let bidderMs = 0;
  let openMs = 0;
  for (const sale of sales) {
    const counts = saleCounts(sale);
    tally.add(counts.tally);
    feedGaps += counts.feedGaps;
    lateEvents += sale.lateEvents;
    if (sale.open) onlineBidders += sale.attendance.current;
    peak = Math.max(peak, sale.attendance.peak);
    const end = sale.closedAt ?? now(sale.sale);
    bidderMs += sale.attendance.integralUntil(end);
    openMs += Math.max(0, end - sale.openedAt);
  }
  return {
    auction,
    sales: sales.length,
    openSales: sales.filter((sale) => sale.open).length,
    ...runFigures(tally),
    onlineBidders,
    onlineBiddersPeak: peak,
    onlineBiddersAverage: openMs === 0 ? null : bidderMs / openMs,
    blockErrors: tally.blockErrors,
    blockErrorsPer100: per100(tally.blockErrors, tally.offered),
    feedGaps,
    lateEvents,
  };
}

function staffFigures(name: string, tally: StaffTally, workedMs: number): StaffFigures {
  return {
    name,
    lanes: [...tally.lanes].sort((a, b) => a.localeCompare(b, undefined, { numeric: true })),
    workedMin: workedMs / MIN,
    ...runFigures(tally),
    carsPerHour: workedMs === 0 ? null : tally.offered / (workedMs / HOUR),
    meanSecondsPerVehicle: mean(tally.runMsTotal / 1000, tally.runsTimed),
    meanTimeToFirstBidSec: mean(tally.firstBidMsTotal / 1000, tally.runsWithBid),
    meanHammerLeadSec: mean(tally.hammerLeadMsTotal / 1000, tally.hammerLeads),
    meanClerkLatencyMs: mean(tally.clerkLatencyMsTotal, tally.clerkLatencies),
  };
}

/** Time each person has been on a lane in shifts still running at `end`, by role and name. */
function openShiftsMs(sale: SaleState, end: number) {
  const shifts = { auctioneer: new Map<string, number>(), clerk: new Map<string, number>() };
  const add = (people: Map<string, number>, name: string | null, since: number | null) => {
    if (name !== null && since !== null) people.set(name, (people.get(name) ?? 0) + Math.max(0, end - since));
  };
  for (const lane of sale.lanes.values()) {
    add(shifts.auctioneer, lane.auctioneer, lane.auctioneerSince);
    add(shifts.clerk, lane.clerk, lane.clerkSince);
  }
  return shifts;
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name.localeCompare(b.name);
}

function mean(sum: number, count: number): number | null {
  return count === 0 ? null : sum / count;
}

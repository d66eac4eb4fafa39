/**
 * Counts of runs and bids that add up: a lane keeps one, each auctioneer and clerk keeps one per
 * sale, and a sale's or a site's totals are their sums. Medians cannot be added up, so the staff
 * figures that a lane takes as a median of its last runs are exact means over all of a person's
 * runs here (a median over every run would need every value: unbounded memory).
 */
import type { BidChannel } from '../../collector/events';

type ChannelCounts = Record<BidChannel, number>;

/** A run's result as the counts see it; corrections change `kind` (and `price`) later. */
export interface CountedOutcome {
  kind: 'sold' | 'ifsale' | 'nosale';
  price: number;
  /** Bought by an online bidder (for an if-sale: the high bid was online, should it be approved). */
  online: boolean;
}

/** What a finished run contributes besides its outcome. */
export interface FinishedRun {
  unresolved: boolean;
  acceptedBids: number;
  hadOnlineBid: boolean;
  missedOnlineBids: number;
  /** Null when the run was never seen going up. */
  durationMs: number | null;
  /** Null when the run had no accepted bid (or was never seen going up). */
  firstBidDelayMs: number | null;
  /** Outcome time minus the last online press, on sold and if-sale runs that had one. */
  hammerLeadMs: number | null;
}

export class RunTally {
  offered = 0;
  sold = 0;
  ifSale = 0;
  noSale = 0;
  unresolved = 0;
  soldOnline = 0;
  grossSales = 0;
  /** Accepted bids by channel, sale to date (a retraction takes one back). */
  readonly bids: ChannelCounts = { online: 0, floor: 0, proxy: 0 };
  bidsInFinishedRuns = 0;
  runsWithOnlineBid = 0;
  missedOnlineBids = 0;
  blockErrors = 0;

  countRun(outcome: CountedOutcome, run: FinishedRun): void {
    this.offered++;
    if (run.unresolved) this.unresolved++;
    this.countOutcome(outcome, +1);
    this.bidsInFinishedRuns += run.acceptedBids;
    if (run.hadOnlineBid) this.runsWithOnlineBid++;
    this.missedOnlineBids += run.missedOnlineBids;
  }

  /** Adds (+1) or takes back (−1) an outcome; a correction takes the old one back first. */
  countOutcome(outcome: CountedOutcome, sign: 1 | -1): void {
    if (outcome.kind === 'sold') {
      this.sold += sign;
      this.grossSales += sign * outcome.price;
      if (outcome.online) this.soldOnline += sign;
    } else if (outcome.kind === 'ifsale') this.ifSale += sign;
    else this.noSale += sign;
  }

  countBid(channel: BidChannel, sign: 1 | -1): void {
    this.bids[channel] += sign;
  }

  /** Adds another tally's counts into this one (a sale's total over its lanes). */
  add(other: RunTally): void {
    this.offered += other.offered;
    this.sold += other.sold;
    this.ifSale += other.ifSale;
    this.noSale += other.noSale;
    this.unresolved += other.unresolved;
    this.soldOnline += other.soldOnline;
    this.grossSales += other.grossSales;
    this.bids.online += other.bids.online;
    this.bids.floor += other.bids.floor;
    this.bids.proxy += other.bids.proxy;
    this.bidsInFinishedRuns += other.bidsInFinishedRuns;
    this.runsWithOnlineBid += other.runsWithOnlineBid;
    this.missedOnlineBids += other.missedOnlineBids;
    this.blockErrors += other.blockErrors;
  }
}

/** One auctioneer's or clerk's share of a sale, with the sums their mean figures divide. */
export class StaffTally extends RunTally {
  readonly lanes = new Set<string>();
  /** Time on a lane in closed shifts; a shift still running is added at view time. */
  workedMs = 0;
  runMsTotal = 0;
  runsTimed = 0;
  firstBidMsTotal = 0;
  runsWithBid = 0;
  hammerLeadMsTotal = 0;
  hammerLeads = 0;
  clerkLatencyMsTotal = 0;
  clerkLatencies = 0;

  override countRun(outcome: CountedOutcome, run: FinishedRun): void {
    super.countRun(outcome, run);
    if (run.durationMs !== null) {
      this.runMsTotal += run.durationMs;
      this.runsTimed++;
    }
    if (run.firstBidDelayMs !== null) {
      this.firstBidMsTotal += run.firstBidDelayMs;
      this.runsWithBid++;
    }
    if (run.hammerLeadMs !== null) {
      this.hammerLeadMsTotal += run.hammerLeadMs;
      this.hammerLeads++;
    }
  }

  countClerkLatency(ms: number): void {
    this.clerkLatencyMsTotal += ms;
    this.clerkLatencies++;
  }
}

/**
 * Who did what in one sale, per person. Attribution (METRICS.md leaves it open; this is the rule):
 * a run — its outcome, duration, first-bid delay, hammer lead, missed online bids — belongs to
 * whoever worked the lane at the run's outcome, and keeps belonging to them when a reversal or an
 * if-sale answer changes it hours later; an accepted bid and its clerk latency belong to whoever
 * worked the lane at the bid's time; a block error belongs to the clerk only — the clerk on the
 * lane when the bid was retracted or the vehicle rerun, and the clerk who recorded the run for a
 * reversed sale.
 */
export class Staffing {
  readonly auctioneers = new Map<string, StaffTally>();
  readonly clerks = new Map<string, StaffTally>();

  auctioneer(name: string | null, lane: string): StaffTally | undefined {
    return name === null ? undefined : tallyOf(this.auctioneers, name, lane);
  }

  clerk(name: string | null, lane: string): StaffTally | undefined {
    return name === null ? undefined : tallyOf(this.clerks, name, lane);
  }
}

function tallyOf(people: Map<string, StaffTally>, name: string, lane: string): StaffTally {
  let tally = people.get(name);
  if (!tally) people.set(name, (tally = new StaffTally()));
  tally.lanes.add(lane);
  return tally;
}

/**
 * One lane's state and how each contract event changes it (counting rules: ../shared/METRICS.md).
 * Deterministic and free of I/O and clocks: everything is keyed by event time. Memory is bounded
 * whatever the sale's length: rolling windows by their span, per-run state by the current run,
 * remembered outcomes by REMEMBERED_OUTCOMES, distinct bidders by the bidder population.
 */
import type { BidChannel, EventOf, LaneEvent } from '../../collector/events';
import { SeqGaps } from './seq-gaps';
import { RunTally, type CountedOutcome, type FinishedRun, type Staffing, type StaffTally } from './tally';
import { RecentValues, SortedValues, TimeWindow } from './windows';

const MIN = 60_000;
/** The longest window any lane figure or the 30-minute attendance chart looks back over. */
export const ATTENDANCE_SPAN_MS = 30 * MIN;
const LAST_RUNS = 10;
const LAST_ONLINE_BIDS = 20;
const RECENT_BIDS = 6;
/**
 * Outcomes remembered for a late `ifsale.resolved` / `sale.reversed` and for price-to-MMR; a lane
 * sells far fewer a day, so in practice both are exact sale to date.
 */
const REMEMBERED_OUTCOMES = 5000;

interface AcceptedBid {
  ts: number;
  amount: number;
  channel: BidChannel;
  /** Who worked the lane when the bid was taken: a retraction takes it back from them. */
  auctioneer: string | null;
  clerk: string | null;
}

interface RunState {
  run: number;
  upAt: number;
  vehicle: string | null;
  mmr: number | undefined;
  bids: AcceptedBid[];
  firstBidAt: number | null;
  /** Online bids pressed on the platform and not yet taken by the clerk, by bidId. */
  awaitingClerk: Map<string, number>;
  lastSubmittedAt: number | null;
  hadOnlineBid: boolean;
}

export interface Outcome extends CountedOutcome {
  highBid: number;
  mmr: number | undefined;
  /** Who worked the lane at the outcome: corrections are counted against them. */
  auctioneer: string | null;
  clerk: string | null;
}

export class LaneState {
  source: string | null = null;
  open = false;
  openedAt: number | null = null;
  closedAt: number | null = null;
  firstEventAt: number | null = null;
  lastEventAt: number | null = null;
  auctioneer: string | null = null;
  clerk: string | null = null;
  /** When the current auctioneer / clerk started on the open lane (their shift's start). */
  auctioneerSince: number | null = null;
  clerkSince: number | null = null;

  online: number | null = null;
  private onlineAt = -Infinity;
  onlinePeak: number | null = null;
  readonly attendance = new TimeWindow<number>(ATTENDANCE_SPAN_MS);
  readonly distinctBidders = new Set<string>();
  streamLatencyMs: number | null = null;
  private streamLatencyAt = -Infinity;

  run: RunState | null = null;
  lastOutcomeAt: number | null = null;
  readonly runDurationsMs = new RecentValues(LAST_RUNS);
  readonly firstBidDelaysMs = new RecentValues(LAST_RUNS);
  readonly hammerLeadsMs = new RecentValues(LAST_RUNS);
  readonly finishedAt = new TimeWindow<true>(60 * MIN);
  readonly recentBids: AcceptedBid[] = [];
  readonly bids = new TimeWindow<BidChannel>(15 * MIN);
  readonly clerkLatenciesMs = new RecentValues(LAST_ONLINE_BIDS);
  readonly missed = new TimeWindow<true>(10 * MIN);

  /** Run and bid counts, sale to date. */
  readonly tally = new RunTally();
  /** Outcomes by run number, newest last, for late corrections. */
  readonly outcomes = new Map<number, Outcome>();
  /** price ÷ mmr × 100 of the remembered sold outcomes that carry an mmr. */
  readonly priceToMmr = new SortedValues();

  readonly seqGaps = new SeqGaps();
  /** Events that arrived later than the reorder window allowed (applied where still possible). */
  lateEvents = 0;

  constructor(
    readonly auction: string,
    readonly sale: string,
    readonly lane: string,
  ) {}

  /** Open, or never said to be: a lane whose `lane.opened` was missed still shows its figures. */
  get showsOpen(): boolean {
    return this.open || this.openedAt === null;
  }

  /** What the lane adds to its sale's online bidders right now. */
  get onlineContribution(): number {
    return this.showsOpen ? (this.online ?? 0) : 0;
  }

  /** Applies one event; `staff` is the sale's per-person tallies the lane attributes to. */
  apply(event: LaneEvent, staff: Staffing): void {
    this.source = event.source;
    this.firstEventAt = Math.min(this.firstEventAt ?? event.ts, event.ts);
    this.lastEventAt = Math.max(this.lastEventAt ?? event.ts, event.ts);
    if (event.seq !== undefined) this.seqGaps.observe(event.source, event.seq);

    switch (event.type) {
      case 'lane.opened':
        this.endShifts(event.ts, staff);
        this.open = true;
        this.openedAt ??= event.ts;
        this.closedAt = null;
        this.auctioneer = event.auctioneer;
        this.clerk = event.clerk;
        this.auctioneerSince = this.clerkSince = event.ts;
        // Looked up now so each has a row in the summary from their first minute on the lane.
        staff.auctioneer(this.auctioneer, this.lane);
        staff.clerk(this.clerk, this.lane);
        return;
      case 'lane.closed':
        if (this.run) this.finishRun(event.ts, 'nosale', 0, undefined, staff, true);
        this.endShifts(event.ts, staff);
        this.open = false;
        this.closedAt = event.ts;
        return;
      case 'lane.staff':
        return this.staffChange(event, staff);
      case 'attendance':
        // "Latest" is by event time: a sample that arrives late does not replace a newer one.
        if (event.ts >= this.onlineAt) {
          this.online = event.online;
          this.onlineAt = event.ts;
        }
        this.onlinePeak = Math.max(this.onlinePeak ?? event.online, event.online);
        this.attendance.add(event.ts, event.online);
        return;
      case 'vehicle.up':
        return this.vehicleUp(event, staff);
      case 'bid.submitted':
        return this.bidSubmitted(event);
      case 'bid':
        return this.bidAccepted(event, staff);
      case 'vehicle.sold':
        return this.finishRun(event.ts, 'sold', event.price, event.run, staff, false, event.channel === 'online');
      case 'vehicle.ifsale':
        return this.finishRun(event.ts, 'ifsale', event.highBid, event.run, staff);
      case 'vehicle.nosale':
        return this.finishRun(event.ts, 'nosale', event.highBid ?? 0, event.run, staff);
      case 'bid.retracted':
        return this.bidRetracted(event, staff);
      case 'vehicle.rerun':
        return this.blockError(staff.clerk(this.clerk, this.lane));
      case 'sale.reversed':
        return this.saleReversed(event.run, staff);
      case 'ifsale.resolved':
        return this.ifSaleResolved(event, staff);
      case 'stream.health':
        if (event.ts >= this.streamLatencyAt) {
          this.streamLatencyMs = event.latencyMs;
          this.streamLatencyAt = event.ts;
        }
        return;
      case 'lane.bidding':
      case 'heartbeat':
      case 'sale.opened':
      case 'sale.closed':
        return;
    }
  }

  private staffChange(event: EventOf<'lane.staff'>, staff: Staffing): void {
    if (event.auctioneer !== undefined && event.auctioneer !== this.auctioneer) {
      this.endShift(staff.auctioneer(this.auctioneer, this.lane), this.auctioneerSince, event.ts);
      this.auctioneer = event.auctioneer;
      this.auctioneerSince = this.open ? event.ts : null;
      staff.auctioneer(this.auctioneer, this.lane);
    }
    if (event.clerk !== undefined && event.clerk !== this.clerk) {
      this.endShift(staff.clerk(this.clerk, this.lane), this.clerkSince, event.ts);
      this.clerk = event.clerk;
      this.clerkSince = this.open ? event.ts : null;
      staff.clerk(this.clerk, this.lane);
    }
  }

  private endShifts(ts: number, staff: Staffing): void {
    this.endShift(staff.auctioneer(this.auctioneer, this.lane), this.auctioneerSince, ts);
    this.endShift(staff.clerk(this.clerk, this.lane), this.clerkSince, ts);
    this.auctioneerSince = this.clerkSince = null;
  }

  private endShift(person: StaffTally | undefined, since: number | null, ts: number): void {
    if (person && since !== null) person.workedMs += Math.max(0, ts - since);
  }

  private vehicleUp(event: EventOf<'vehicle.up'>, staff: Staffing): void {
    // The next vehicle up ends a run that never got its outcome: a no-sale, flagged unresolved.
    if (this.run) this.finishRun(event.ts, 'nosale', 0, undefined, staff, true);
    const vehicle = [event.year, event.make, event.model].filter((part) => part !== undefined).join(' ');
    this.run = {
      run: event.run,
      upAt: event.ts,
      vehicle: vehicle === '' ? null : vehicle,
      mmr: event.mmr,
      bids: [],
      firstBidAt: null,
      awaitingClerk: new Map(),
      lastSubmittedAt: null,
      hadOnlineBid: false,
    };
  }

  private bidSubmitted(event: EventOf<'bid.submitted'>): void {
    if (event.bidder !== undefined) this.distinctBidders.add(event.bidder);
    const run = this.runNumbered(event.run);
    if (!run) return;
    run.awaitingClerk.set(event.bidId, event.ts);
    run.lastSubmittedAt = Math.max(run.lastSubmittedAt ?? event.ts, event.ts);
    run.hadOnlineBid = true;
  }

  private bidAccepted(event: EventOf<'bid'>, staff: Staffing): void {
    const bid: AcceptedBid = {
      ts: event.ts,
      amount: event.amount,
      channel: event.channel,
      auctioneer: this.auctioneer,
      clerk: this.clerk,
    };
    const auctioneer = staff.auctioneer(this.auctioneer, this.lane);
    const clerk = staff.clerk(this.clerk, this.lane);
    this.bids.add(event.ts, event.channel);
    this.tally.countBid(event.channel, +1);
    auctioneer?.countBid(event.channel, +1);
    clerk?.countBid(event.channel, +1);
    this.recentBids.unshift(bid);
    if (this.recentBids.length > RECENT_BIDS) this.recentBids.pop();

    const run = this.runNumbered(event.run);
    if (!run) return;
    run.bids.push(bid);
    // Once per run: a bid taken after a retracted first one does not start the run again.
    if (run.firstBidAt === null) {
      run.firstBidAt = event.ts;
      this.firstBidDelaysMs.push(event.ts - run.upAt);
    }
    const submittedAt = event.bidId === undefined ? undefined : run.awaitingClerk.get(event.bidId);
    if (submittedAt !== undefined && event.bidId !== undefined) {
      run.awaitingClerk.delete(event.bidId);
      const latencyMs = event.ts - submittedAt;
      this.clerkLatenciesMs.push(latencyMs);
      auctioneer?.countClerkLatency(latencyMs);
      clerk?.countClerkLatency(latencyMs);
    }
  }

  private bidRetracted(event: EventOf<'bid.retracted'>, staff: Staffing): void {
    this.blockError(staff.clerk(this.clerk, this.lane));
    const undone = this.runNumbered(event.run)?.bids.pop();
    if (!undone) return;
    this.tally.countBid(undone.channel, -1);
    staff.auctioneer(undone.auctioneer, this.lane)?.countBid(undone.channel, -1);
    staff.clerk(undone.clerk, this.lane)?.countBid(undone.channel, -1);
    this.bids.removeLast((channel, ts) => channel === undone.channel && ts === undone.ts);
    // Matched by value, not identity: a restored checkpoint holds copies of the shared bid objects.
    const shown = this.recentBids.findIndex(
      (b) => b.ts === undone.ts && b.amount === undone.amount && b.channel === undone.channel,
    );
    if (shown >= 0) this.recentBids.splice(shown, 1);
  }

  /**
   * Ends a run. `runNumber` is the outcome event's run (undefined when the run was cut short);
   * an outcome for a run we never saw go up still counts as an offering.
   */
  private finishRun(
    ts: number,
    kind: Outcome['kind'],
    price: number,
    runNumber: number | undefined,
    staff: Staffing,
    unresolved = false,
    soldOnline?: boolean,
  ): void {
    const run = runNumber === undefined || this.run?.run === runNumber ? this.run : null;
    const lastBid = run?.bids.at(-1);
    const outcome: Outcome = {
      kind,
      price,
      highBid: lastBid?.amount ?? price,
      online: soldOnline ?? lastBid?.channel === 'online',
      mmr: run?.mmr,
      auctioneer: this.auctioneer,
      clerk: this.clerk,
    };
    const hammerLeadMs = kind !== 'nosale' && run && run.lastSubmittedAt !== null ? ts - run.lastSubmittedAt : null;
    const finished: FinishedRun = {
      unresolved,
      acceptedBids: run?.bids.length ?? 0,
      hadOnlineBid: run?.hadOnlineBid ?? false,
      missedOnlineBids: run?.awaitingClerk.size ?? 0,
      durationMs: run ? ts - run.upAt : null,
      firstBidDelayMs: run && run.firstBidAt !== null ? run.firstBidAt - run.upAt : null,
      hammerLeadMs,
    };
    this.tally.countRun(outcome, finished);
    staff.auctioneer(outcome.auctioneer, this.lane)?.countRun(outcome, finished);
    staff.clerk(outcome.clerk, this.lane)?.countRun(outcome, finished);
    this.countPriceToMmr(outcome, +1);
    this.finishedAt.add(ts, true);
    this.lastOutcomeAt = ts;
    const number = runNumber ?? run?.run;
    if (number !== undefined) this.remember(number, outcome);
    if (!run) return;

    this.run = null;
    this.runDurationsMs.push(ts - run.upAt);
    for (let i = 0; i < finished.missedOnlineBids; i++) this.missed.add(ts, true);
    if (hammerLeadMs !== null) this.hammerLeadsMs.push(hammerLeadMs);
  }

  private saleReversed(runNumber: number, staff: Staffing): void {
    const outcome = this.outcomes.get(runNumber);
    // The clerk who recorded the sale made the error, not whoever is on the lane hours later.
    this.blockError(staff.clerk(outcome ? outcome.clerk : this.clerk, this.lane));
    if (outcome?.kind === 'sold') this.correct(outcome, 'nosale', outcome.price, staff);
  }

  private ifSaleResolved(event: EventOf<'ifsale.resolved'>, staff: Staffing): void {
    const outcome = this.outcomes.get(event.run);
    if (outcome?.kind !== 'ifsale') return;
    if (event.approved) this.correct(outcome, 'sold', event.price ?? outcome.highBid, staff);
    else this.correct(outcome, 'nosale', outcome.price, staff);
  }

  private correct(outcome: Outcome, kind: Outcome['kind'], price: number, staff: Staffing): void {
    const counts = [this.tally, staff.auctioneer(outcome.auctioneer, this.lane), staff.clerk(outcome.clerk, this.lane)];
    for (const tally of counts) tally?.countOutcome(outcome, -1);
    this.countPriceToMmr(outcome, -1);
    outcome.kind = kind;
    outcome.price = price;
    for (const tally of counts) tally?.countOutcome(outcome, +1);
    this.countPriceToMmr(outcome, +1);
  }

  private blockError(clerk: StaffTally | undefined): void {
    this.tally.blockErrors++;
    if (clerk) clerk.blockErrors++;
  }

  private countPriceToMmr(outcome: Outcome, sign: 1 | -1): void {
    if (outcome.kind !== 'sold' || !outcome.mmr) return;
    const pct = (outcome.price / outcome.mmr) * 100;
    if (sign > 0) this.priceToMmr.insert(pct);
    else this.priceToMmr.remove(pct);
  }

  private remember(runNumber: number, outcome: Outcome): void {
    const replaced = this.outcomes.get(runNumber);
    // A rerun's earlier outcome stays counted but can no longer be corrected: forget its ratio.
    if (replaced) this.countPriceToMmr(replaced, -1);
    this.outcomes.delete(runNumber); // re-insert so a rerun's outcome counts as the newest
    this.outcomes.set(runNumber, outcome);
    if (this.outcomes.size > REMEMBERED_OUTCOMES) {
      const [oldestRun, oldest] = this.outcomes.entries().next().value as [number, Outcome];
      this.outcomes.delete(oldestRun);
      this.countPriceToMmr(oldest, -1);
    }
  }

  /** The open run when the event belongs to it; events of other runs change lane totals only. */
  private runNumbered(runNumber: number): RunState | null {
    return this.run?.run === runNumber ? this.run : null;
  }
}

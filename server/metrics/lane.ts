/**
 * One lane's state and how each contract event changes it (counting rules: ../shared/METRICS.md).
 * Deterministic and free of I/O and clocks: everything is keyed by event time.
 */
import type { BidChannel, EventOf, LaneEvent } from '../../collector/events';
import { RecentValues, TimeWindow } from './windows';

const MIN = 60_000;
/** The longest window any lane figure or the 30-minute attendance chart looks back over. */
export const ATTENDANCE_SPAN_MS = 30 * MIN;
const LAST_RUNS = 10;
const LAST_ONLINE_BIDS = 20;
const RECENT_BIDS = 6;
/** Outcomes remembered for a late `ifsale.resolved` / `sale.reversed`; a lane sells far fewer a day. */
const REMEMBERED_OUTCOMES = 5000;

interface AcceptedBid {
  ts: number;
  amount: number;
  channel: BidChannel;
}

interface RunState {
  run: number;
  upAt: number;
  vehicle: string | null;
  mmr: number | undefined;
  bids: AcceptedBid[];
  /** Online bids pressed on the platform and not yet taken by the clerk, by bidId. */
  awaitingClerk: Map<string, number>;
  lastSubmittedAt: number | null;
  hadOnlineBid: boolean;
}

export interface Outcome {
  kind: 'sold' | 'ifsale' | 'nosale';
  price: number;
  highBid: number;
  /** Bought by an online bidder (for an if-sale: the high bid was online, should it be approved). */
  online: boolean;
  mmr: number | undefined;
}

type ChannelCounts = Record<BidChannel, number>;

export class LaneState {
  source: string | null = null;
  open = false;
  openedAt: number | null = null;
  closedAt: number | null = null;
  firstEventAt: number | null = null;
  lastEventAt: number | null = null;
  auctioneer: string | null = null;
  clerk: string | null = null;

  online: number | null = null;
  private onlineAt = -Infinity;
  onlinePeak: number | null = null;
  readonly attendance = new TimeWindow<number>(ATTENDANCE_SPAN_MS);
  readonly distinctBidders = new Set<string>();
  streamLatencyMs: number | null = null;

  run: RunState | null = null;
  lastOutcomeAt: number | null = null;
  readonly runDurationsMs = new RecentValues(LAST_RUNS);
  readonly firstBidDelaysMs = new RecentValues(LAST_RUNS);
  readonly hammerLeadsMs = new RecentValues(LAST_RUNS);
  readonly finishedAt = new TimeWindow<true>(60 * MIN);
  readonly recentBids: AcceptedBid[] = [];

  readonly bids = new TimeWindow<BidChannel>(15 * MIN);
  readonly bidsToDate: ChannelCounts = { online: 0, floor: 0, proxy: 0 };
  readonly clerkLatenciesMs = new RecentValues(LAST_ONLINE_BIDS);
  missedOnlineBids = 0;
  readonly missed = new TimeWindow<true>(10 * MIN);

  offered = 0;
  sold = 0;
  ifSale = 0;
  noSale = 0;
  unresolved = 0;
  soldOnline = 0;
  grossSales = 0;
  acceptedBidsInFinishedRuns = 0;
  runsWithOnlineBid = 0;
  blockErrors = 0;
  /** Outcomes by run number, newest last, for late corrections and price-to-MMR. */
  readonly outcomes = new Map<number, Outcome>();

  feedGaps = 0;
  private readonly lastSeq = new Map<string, number>();

  constructor(
    readonly auction: string,
    readonly sale: string,
    readonly lane: string,
  ) {}

  apply(event: LaneEvent): void {
    this.source = event.source;
    this.firstEventAt = Math.min(this.firstEventAt ?? event.ts, event.ts);
    this.lastEventAt = Math.max(this.lastEventAt ?? event.ts, event.ts);
    if (event.seq !== undefined) this.trackSeq(event.source, event.seq);

    switch (event.type) {
      case 'lane.opened':
        this.open = true;
        this.openedAt ??= event.ts;
        this.closedAt = null;
        this.auctioneer = event.auctioneer;
        this.clerk = event.clerk;
        return;
      case 'lane.closed':
        if (this.run) this.finishRun(event.ts, 'nosale', 0, undefined, true);
        this.open = false;
        this.closedAt = event.ts;
        return;
      case 'lane.staff':
        this.auctioneer = event.auctioneer ?? this.auctioneer;
        this.clerk = event.clerk ?? this.clerk;
        return;
      case 'attendance':
        // "Latest" is by event time: a sample that arrives late does not replace a newer one.
        if (event.ts >= this.onlineAt) [this.online, this.onlineAt] = [event.online, event.ts];
        this.onlinePeak = Math.max(this.onlinePeak ?? event.online, event.online);
        this.attendance.add(event.ts, event.online);
        return;
      case 'vehicle.up':
        return this.vehicleUp(event);
      case 'bid.submitted':
        return this.bidSubmitted(event);
      case 'bid':
        return this.bidAccepted(event);
      case 'vehicle.sold':
        return this.finishRun(event.ts, 'sold', event.price, event.run, false, event.channel === 'online');
      case 'vehicle.ifsale':
        return this.finishRun(event.ts, 'ifsale', event.highBid, event.run);
      case 'vehicle.nosale':
        return this.finishRun(event.ts, 'nosale', event.highBid ?? 0, event.run);
      case 'bid.retracted':
        return this.bidRetracted(event);
      case 'vehicle.rerun':
        this.blockErrors++;
        return;
      case 'sale.reversed':
        return this.saleReversed(event.run);
      case 'ifsale.resolved':
        return this.ifSaleResolved(event);
      case 'stream.health':
        this.streamLatencyMs = event.latencyMs;
        return;
      case 'lane.bidding':
      case 'heartbeat':
      case 'sale.opened':
      case 'sale.closed':
        return;
    }
  }

  private trackSeq(source: string, seq: number): void {
    const last = this.lastSeq.get(source);
    if (last !== undefined && seq > last + 1) this.feedGaps += seq - last - 1;
    if (last === undefined || seq > last) this.lastSeq.set(source, seq);
  }

  private vehicleUp(event: EventOf<'vehicle.up'>): void {
    // The next vehicle up ends a run that never got its outcome: a no-sale, flagged unresolved.
    if (this.run) this.finishRun(event.ts, 'nosale', 0, undefined, true);
    const vehicle = [event.year, event.make, event.model].filter((part) => part !== undefined).join(' ');
    this.run = {
      run: event.run,
      upAt: event.ts,
      vehicle: vehicle === '' ? null : vehicle,
      mmr: event.mmr,
      bids: [],
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

  private bidAccepted(event: EventOf<'bid'>): void {
    const bid: AcceptedBid = { ts: event.ts, amount: event.amount, channel: event.channel };
    this.bids.add(event.ts, event.channel);
    this.bidsToDate[event.channel]++;
    this.recentBids.unshift(bid);
    if (this.recentBids.length > RECENT_BIDS) this.recentBids.pop();
    const run = this.runNumbered(event.run);
    if (!run) return;
    run.bids.push(bid);
    if (run.bids.length === 1) this.firstBidDelaysMs.push(event.ts - run.upAt);
    const submittedAt = event.bidId === undefined ? undefined : run.awaitingClerk.get(event.bidId);
    if (submittedAt !== undefined && event.bidId !== undefined) {
      run.awaitingClerk.delete(event.bidId);
      this.clerkLatenciesMs.push(event.ts - submittedAt);
    }
  }

  private bidRetracted(event: EventOf<'bid.retracted'>): void {
    this.blockErrors++;
    const run = this.runNumbered(event.run);
    const undone = run?.bids.pop();
    if (!undone) return;
    this.bidsToDate[undone.channel]--;
    this.bids.removeLast((channel, ts) => channel === undone.channel && ts === undone.ts);
    const shown = this.recentBids.indexOf(undone);
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
    unresolved = false,
    soldOnline?: boolean,
  ): void {
    const run = runNumber === undefined || this.run?.run === runNumber ? this.run : null;
    this.offered++;
    if (unresolved) this.unresolved++;
    this.finishedAt.add(ts, true);
    this.lastOutcomeAt = ts;
    const lastBid = run?.bids.at(-1);
    const outcome: Outcome = {
      kind,
      price,
      highBid: lastBid?.amount ?? price,
      online: soldOnline ?? lastBid?.channel === 'online',
      mmr: run?.mmr,
    };
    this.countOutcome(outcome, +1);
    const number = runNumber ?? run?.run;
    if (number !== undefined) this.remember(number, outcome);
    if (!run) return;

    this.run = null;
    this.runDurationsMs.push(ts - run.upAt);
    this.acceptedBidsInFinishedRuns += run.bids.length;
    if (run.hadOnlineBid) this.runsWithOnlineBid++;
    if (run.awaitingClerk.size > 0) {
      this.missedOnlineBids += run.awaitingClerk.size;
      for (let i = 0; i < run.awaitingClerk.size; i++) this.missed.add(ts, true);
    }
    if (kind !== 'nosale' && run.lastSubmittedAt !== null) this.hammerLeadsMs.push(ts - run.lastSubmittedAt);
  }

  private saleReversed(runNumber: number): void {
    this.blockErrors++;
    const outcome = this.outcomes.get(runNumber);
    if (outcome?.kind !== 'sold') return;
    this.countOutcome(outcome, -1);
    outcome.kind = 'nosale';
    this.countOutcome(outcome, +1);
  }

  private ifSaleResolved(event: EventOf<'ifsale.resolved'>): void {
    const outcome = this.outcomes.get(event.run);
    if (outcome?.kind !== 'ifsale') return;
    this.countOutcome(outcome, -1);
    outcome.kind = event.approved ? 'sold' : 'nosale';
    if (event.approved) outcome.price = event.price ?? outcome.highBid;
    this.countOutcome(outcome, +1);
  }

  private countOutcome(outcome: Outcome, sign: 1 | -1): void {
    if (outcome.kind === 'sold') {
      this.sold += sign;
      this.grossSales += sign * outcome.price;
      if (outcome.online) this.soldOnline += sign;
    } else if (outcome.kind === 'ifsale') this.ifSale += sign;
    else this.noSale += sign;
  }

  private remember(runNumber: number, outcome: Outcome): void {
    this.outcomes.delete(runNumber); // re-insert so a rerun's outcome counts as the newest
    this.outcomes.set(runNumber, outcome);
    if (this.outcomes.size > REMEMBERED_OUTCOMES) {
      const oldest = this.outcomes.keys().next().value;
      if (oldest !== undefined) this.outcomes.delete(oldest);
    }
  }

  /** The open run when the event belongs to it; events of other runs change lane totals only. */
  private runNumbered(runNumber: number): RunState | null {
    return this.run?.run === runNumber ? this.run : null;
  }
}

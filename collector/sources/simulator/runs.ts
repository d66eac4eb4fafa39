/**
 * One run: a vehicle on the block from `vehicle.up` to its outcome. Bids climb a price ladder
 * towards what the room will pay; online bids go through the clerk, whose latency shows between
 * `bid.submitted` and `bid`. The outcome follows from the high bid against the seller's floor.
 */
import type { BidChannel } from '../../events';
import type { Vehicle } from './catalog';
import type { Auctioneer, Clerk, LaneEventBody, LanePlan } from './plan';
import type { Random } from './random';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
/** Bids placed by the platform's proxy (auto-bid) engine rather than a person. */
const PROXY_SHARE = 0.07;
/** Online submissions the clerk never takes. */
const MISSED_SUBMISSION = 0.02;
const RETRACTED_RUN = 0.01;
const REVERSED_SALE = 0.004;
/** If-sales the seller answers before the lane closes. */
const ANSWERED_IFSALE = 0.85;
/** A high bid this close below the floor (share of MMR) is called as an if-sale, not a pass. */
const IFSALE_BAND = 0.04;

export interface RunInput {
  run: number;
  vehicle: Vehicle;
  /** The vehicle passed earlier in the sale and comes back. */
  rerun: boolean;
  ts: number;
  auctioneer: Auctioneer;
  clerk: Clerk;
  /** Expected online bidders relative to the lane's level: fewer bidders, fewer online bids, lower prices. */
  audience: number;
}

export interface RunResult {
  /** In ts order, ending with the outcome. */
  events: LaneEventBody[];
  /** What the run causes minutes later: if-sale answers and sale reversals. */
  later: LaneEventBody[];
  end: number;
  passed: boolean;
}

interface Accepted {
  amount: number;
  channel: BidChannel;
  bidder: string | undefined;
}

export function simulateRun(rng: Random, lane: LanePlan, input: RunInput, nextBidId: () => string): RunResult {
  const { run, vehicle, auctioneer, clerk } = input;
  const events: LaneEventBody[] = [];
  if (input.rerun) events.push({ type: 'vehicle.rerun', ts: input.ts, run });
  const { vin, year, make, model, floor, mmr, seller } = vehicle;
  events.push({ type: 'vehicle.up', ts: input.ts, run, vin, year, make, model, floor, mmr, seller });

  const ladder = bidLadder(rng, mmr, input.audience);
  const onlineChance = lane.onlineShare * (0.5 + 0.5 * Math.min(1, input.audience));
  let retractAt = rng.chance(RETRACTED_RUN) ? rng.int(1, ladder.length - 2) : -1;
  const accepted: Accepted[] = [];
  // Whole milliseconds throughout, as the contract wants.
  let at = input.ts + Math.round(rng.uniform(3, 11) * SECOND);
  for (let i = 0; i < ladder.length; i++) {
    const amount = ladder[i] as number;
    const roll = rng.next();
    if (roll < onlineChance) {
      const bidder = pickBidder(rng, lane.bidders, accepted.at(-1)?.bidder);
      const bidId = nextBidId();
      events.push({ type: 'bid.submitted', ts: at, run, bidId, amount, bidder });
      if (rng.chance(MISSED_SUBMISSION)) {
        // The clerk never takes it; the auctioneer takes the same money off the floor instead.
        at += Math.round(rng.uniform(1, 2.5) * SECOND);
        events.push({ type: 'bid', ts: at, run, amount, channel: 'floor' });
        accepted.push({ amount, channel: 'floor', bidder: undefined });
      } else {
        at += Math.round(Math.max(250, rng.lognormal(clerk.latencyMs, 0.35)));
        events.push({ type: 'bid', ts: at, run, amount, channel: 'online', bidId });
        accepted.push({ amount, channel: 'online', bidder });
      }
    } else {
      const channel = roll < onlineChance + PROXY_SHARE ? 'proxy' : 'floor';
      events.push({ type: 'bid', ts: at, run, amount, channel });
      accepted.push({ amount, channel, bidder: undefined });
    }
    if (i === retractAt) {
      // A block error: the clerk takes the bid back and the same money is asked again.
      at += Math.round(rng.uniform(1, 3) * SECOND);
      events.push({ type: 'bid.retracted', ts: at, run, amount });
      accepted.pop();
      retractAt = -1;
      i--;
    }
    if (i < ladder.length - 1) {
      // Early bids come fast; they slow down as the price nears what the room will pay.
      at += Math.round(clamp(rng.lognormal(2250 * auctioneer.pace * (1 + i / ladder.length), 0.4), 700, 15 * SECOND));
    }
  }

  const end = at + Math.round(clamp(rng.lognormal(5200 * auctioneer.pace, 0.3), 2500, 15 * SECOND));
  const high = accepted.at(-1) as Accepted;
  const later: LaneEventBody[] = [];
  const passed = high.amount < floor - IFSALE_BAND * mmr;
  if (high.amount >= floor) {
    const online = high.channel === 'online';
    const buyer = high.bidder ?? rng.pick(lane.floorDealers);
    events.push({
      type: 'vehicle.sold',
      ts: end,
      run,
      price: high.amount,
      channel: online ? 'online' : 'floor',
      buyer,
    });
    if (rng.chance(REVERSED_SALE)) later.push({ type: 'sale.reversed', ts: end + minutes(rng, 1, 15), run });
  } else if (!passed) {
    events.push({ type: 'vehicle.ifsale', ts: end, run, highBid: high.amount });
    if (rng.chance(ANSWERED_IFSALE)) later.push(ifSaleAnswer(rng, run, end, high.amount, floor));
  } else {
    events.push({ type: 'vehicle.nosale', ts: end, run, highBid: high.amount });
  }
  return { events, later, end, passed };
}

/**
 * The amounts a run's accepted bids climb through: 6–15 bids in $100–500 steps from ~60–70 % of
 * MMR up to what the room will pay. Dear vehicles start higher, as the $500 step caps the climb.
 */
function bidLadder(rng: Random, mmr: number, audience: number): number[] {
  const count = rng.int(6, 15);
  const value = mmr * rng.normal(0.955 - 0.05 * (1 - Math.min(1, audience)), 0.06);
  const opening = mmr * rng.uniform(0.6, 0.7);
  const step = clamp(roundTo((value - opening) / (count - 1), 100), 100, 500);
  const first = Math.max(100, roundTo(value, 100) - step * (count - 1));
  return Array.from({ length: count }, (_, i) => first + i * step);
}

/** Dealers are not equally active: a few bid on most runs. Nobody bids against themselves. */
function pickBidder(rng: Random, bidders: readonly string[], highBidder: string | undefined): string {
  for (;;) {
    const bidder = bidders[Math.floor(rng.next() ** 2 * bidders.length)] as string;
    if (bidder !== highBidder) return bidder;
  }
}

function ifSaleAnswer(rng: Random, run: number, end: number, highBid: number, floor: number): LaneEventBody {
  const ts = end + minutes(rng, 2, 40);
  if (!rng.chance(0.5)) return { type: 'ifsale.resolved', ts, run, approved: false };
  // Half the approvals are at a counter-offer between the high bid and the floor.
  if (!rng.chance(0.5)) return { type: 'ifsale.resolved', ts, run, approved: true };
  return { type: 'ifsale.resolved', ts, run, approved: true, price: roundTo(rng.uniform(highBid, floor), 100) };
}

function minutes(rng: Random, min: number, max: number): number {
  return Math.round(rng.uniform(min, max) * MINUTE);
}

function roundTo(value: number, unit: number): number {
  return Math.round(value / unit) * unit;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/**
 * Recounts a sale's run and bid figures per lane from the raw events stored in InfluxDB, written
 * apart from the live engine (../metrics) so the two can check each other: a post-sale report can
 * stand on the recount, and a disagreement points at a bug in one of them.
 *
 * Every figure here depends on per-run logic under the counting rules (../../shared/METRICS.md):
 * a retraction takes back the open run's latest bid, a reversal or an if-sale answer rewrites an
 * earlier outcome, the next vehicle cuts an open run short. A plain InfluxQL count would be wrong
 * as soon as one of those happens, so InfluxQL selects the fields needed (paged, as servers cap
 * the rows per answer) and the lanes are replayed here, in event-time order.
 */
import type { BidChannel } from '../../collector/events';
import { quoteLiteral, type InfluxStore } from '../../storage/influxdb';

export interface LaneRecount {
  lane: string;
  offered: number;
  sold: number;
  ifSale: number;
  noSale: number;
  grossSales: number;
  /** Accepted bids by channel, less the ones retracted. */
  bids: Record<BidChannel, number>;
  missedOnlineBids: number;
}

/** The raw events that shape runs, as the fields the recount needs. */
type RunEvent = { lane: string; ts: number; seq: number | undefined; source: string; id: string } & (
  | { kind: 'lane.opened' | 'lane.closed' }
  | { kind: 'vehicle.up' | 'vehicle.nosale' | 'bid.retracted' | 'sale.reversed'; run: number }
  | { kind: 'bid.submitted'; run: number; bidId: string }
  | { kind: 'bid'; run: number; amount: number; channel: BidChannel; bidId: string | undefined }
  | { kind: 'vehicle.sold'; run: number; price: number }
  | { kind: 'vehicle.ifsale'; run: number; highBid: number }
  | { kind: 'ifsale.resolved'; run: number; approved: boolean; price: number | undefined }
);
type Kind = RunEvent['kind'];

/** Fields read per kind, besides the envelope's `id`, `seq` and tags `lane` and `source`. */
const FIELDS: Record<Kind, readonly string[]> = {
  'lane.opened': [],
  'lane.closed': [],
  'vehicle.up': ['run'],
  'bid.submitted': ['run', 'bidId'],
  bid: ['run', 'amount', 'channel', 'bidId'],
  'bid.retracted': ['run'],
  'vehicle.sold': ['run', 'price'],
  'vehicle.ifsale': ['run', 'highBid'],
  'vehicle.nosale': ['run'],
  'sale.reversed': ['run'],
  'ifsale.resolved': ['run', 'approved', 'price'],
};

/**
 * Events of one millisecond on one lane without a feed `seq` to order them are taken in the order
 * a run unfolds; with `seq`, the feed's own order decides.
 */
const RUN_ORDER: Record<Kind, number> = {
  'lane.opened': 0,
  'vehicle.up': 1,
  'bid.submitted': 2,
  bid: 3,
  'bid.retracted': 4,
  'vehicle.sold': 5,
  'vehicle.ifsale': 5,
  'vehicle.nosale': 5,
  'sale.reversed': 6,
  'ifsale.resolved': 6,
  'lane.closed': 7,
};

/** Rows per query: InfluxDB 1.x's usual `max-row-limit`; other servers cap higher or not at all. */
const PAGE_ROWS = 10_000;

/** Per-lane figures of `sale`, in lane order ("2" before "10"). */
export async function recountSale(store: InfluxStore, sale: string): Promise<LaneRecount[]> {
  const kinds = Object.keys(FIELDS) as Kind[];
  const rows = (await Promise.all(kinds.map((kind) => readEvents(store, sale, kind)))).flat();
  rows.sort(byEventTime);
  const lanes = new Map<string, LaneTally>();
  const seen = new Set<string>();
  for (const event of rows) {
    // A feed that resent an event under its id with another timestamp stored it twice.
    const key = `${event.source}\u0000${event.id}`;
    if (seen.has(key)) continue;
    seen.add(key);
    let tally = lanes.get(event.lane);
    if (!tally) lanes.set(event.lane, (tally = new LaneTally(event.lane)));
    tally.apply(event);
  }
  return [...lanes.values()]
    .sort((a, b) => a.lane.localeCompare(b.lane, undefined, { numeric: true }))
    .map((tally) => tally.result());
}

async function readEvents(store: InfluxStore, sale: string, kind: Kind): Promise<RunEvent[]> {
  const columns = ['id', 'seq', 'lane', 'source', ...FIELDS[kind]].map((column) => `"${column}"`).join(', ');
  // Named as the collector's InfluxDB sink names them: `vehicle.sold` → `vehicle_sold`.
  const select = `SELECT ${columns} FROM "${kind.replace('.', '_')}" WHERE sale = ${quoteLiteral(sale)}`;
  const events: RunEvent[] = [];
  for (let offset = 0; ; offset += PAGE_ROWS) {
    const [series] = await store.query(`${select} LIMIT ${PAGE_ROWS} OFFSET ${offset}`);
    const values = series?.values ?? [];
    for (const row of values) events.push(toEvent(kind, series?.columns ?? [], row));
    if (values.length < PAGE_ROWS) return events;
  }
}

function toEvent(kind: Kind, columns: readonly string[], row: readonly unknown[]): RunEvent {
  const value = (name: string, type: 'number' | 'string' | 'boolean', optional = false) => {
    const found = row[columns.indexOf(name)] ?? undefined;
    if ((found === undefined && optional) || typeof found === type) return found;
    throw new Error(`${kind} ${name} is stored as ${JSON.stringify(found)}, not a ${type}`);
  };
  const number = (name: string) => value(name, 'number') as number;
  const text = (name: string) => value(name, 'string') as string;
  const envelope = {
    lane: text('lane'),
    // Stored times carry a sub-millisecond hash of the event id, which epoch=ms drops again.
    ts: number('time'),
    seq: value('seq', 'number', true) as number | undefined,
    source: text('source'),
    id: text('id'),
  };
  switch (kind) {
    case 'lane.opened':
    case 'lane.closed':
      return { ...envelope, kind };
    case 'vehicle.up':
    case 'vehicle.nosale':
    case 'bid.retracted':
    case 'sale.reversed':
      return { ...envelope, kind, run: number('run') };
    case 'bid.submitted':
      return { ...envelope, kind, run: number('run'), bidId: text('bidId') };
    case 'bid':
      return {
        ...envelope,
        kind,
        run: number('run'),
        amount: number('amount'),
        channel: text('channel') as BidChannel,
        bidId: value('bidId', 'string', true) as string | undefined,
      };
    case 'vehicle.sold':
      return { ...envelope, kind, run: number('run'), price: number('price') };
    case 'vehicle.ifsale':
      return { ...envelope, kind, run: number('run'), highBid: number('highBid') };
    case 'ifsale.resolved':
      return {
        ...envelope,
        kind,
        run: number('run'),
        approved: value('approved', 'boolean') as boolean,
        price: value('price', 'number', true) as number | undefined,
      };
  }
}

function byEventTime(a: RunEvent, b: RunEvent): number {
  return (
    a.ts - b.ts ||
    (a.seq ?? Infinity) - (b.seq ?? Infinity) ||
    RUN_ORDER[a.kind] - RUN_ORDER[b.kind] ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

interface OpenRun {
  run: number;
  bids: { amount: number; channel: BidChannel }[];
  /** bidIds submitted online and not yet taken by the clerk. */
  awaitingClerk: Set<string>;
}

interface Outcome {
  kind: 'sold' | 'ifsale' | 'nosale';
  price: number;
  /** The run's last accepted bid when it ended (an if-sale approved without a price sells at it). */
  highBid: number;
}

/** One lane's run figures, fed its events in event-time order. */
class LaneTally {
  private open: OpenRun | null = null;
  /** The latest outcome per run number: the one a late reversal or if-sale answer applies to. */
  private readonly outcomes = new Map<number, Outcome>();
  private offered = 0;
  private sold = 0;
  private ifSale = 0;
  private noSale = 0;
  private grossSales = 0;
  private readonly bids: Record<BidChannel, number> = { online: 0, floor: 0, proxy: 0 };
  private missedOnlineBids = 0;

  constructor(readonly lane: string) {}

  apply(event: RunEvent): void {
    const open = 'run' in event && this.open?.run === event.run ? this.open : null;
    switch (event.kind) {
      case 'lane.opened':
        return;
      case 'lane.closed':
        if (this.open) this.finish('nosale', 0, undefined);
        return;
      case 'vehicle.up':
        // The next vehicle up ends a run that never got its outcome, as a no-sale.
        if (this.open) this.finish('nosale', 0, undefined);
        this.open = { run: event.run, bids: [], awaitingClerk: new Set() };
        return;
      case 'bid.submitted':
        open?.awaitingClerk.add(event.bidId);
        return;
      case 'bid':
        this.bids[event.channel]++;
        open?.bids.push({ amount: event.amount, channel: event.channel });
        if (event.bidId !== undefined) open?.awaitingClerk.delete(event.bidId);
        return;
      case 'bid.retracted': {
        const undone = open?.bids.pop();
        if (undone) this.bids[undone.channel]--;
        return;
      }
      case 'vehicle.sold':
        return this.finish('sold', event.price, event.run);
      case 'vehicle.ifsale':
        return this.finish('ifsale', event.highBid, event.run);
      case 'vehicle.nosale':
        return this.finish('nosale', 0, event.run);
      case 'sale.reversed':
        return this.rewrite(event.run, 'sold', () => ({ kind: 'nosale' }));
      case 'ifsale.resolved':
        return this.rewrite(event.run, 'ifsale', (outcome) =>
          event.approved ? { kind: 'sold', price: event.price ?? outcome.highBid } : { kind: 'nosale' },
        );
    }
  }

  result(): LaneRecount {
    const { lane, offered, sold, ifSale, noSale, grossSales, missedOnlineBids } = this;
    return { lane, offered, sold, ifSale, noSale, grossSales, bids: { ...this.bids }, missedOnlineBids };
  }

  /**
   * Ends the open run when the outcome is its own (`run` undefined: it was cut short). An outcome
   * for a run not on the block still counts as an offering, and leaves the open run open.
   */
  private finish(kind: Outcome['kind'], price: number, run: number | undefined): void {
    const ended = run === undefined || this.open?.run === run ? this.open : null;
    const outcome: Outcome = { kind, price, highBid: ended?.bids.at(-1)?.amount ?? price };
    this.offered++;
    this.count(outcome, +1);
    const number = run ?? ended?.run;
    if (number !== undefined) this.outcomes.set(number, outcome);
    if (!ended) return;
    this.missedOnlineBids += ended.awaitingClerk.size;
    this.open = null;
  }

  /** Applies a late correction to the run's latest outcome when that outcome is of kind `from`. */
  private rewrite(run: number, from: Outcome['kind'], change: (outcome: Outcome) => Partial<Outcome>): void {
    const outcome = this.outcomes.get(run);
    if (outcome?.kind !== from) return;
    this.count(outcome, -1);
    Object.assign(outcome, change(outcome));
    this.count(outcome, +1);
  }

  private count(outcome: Outcome, sign: 1 | -1): void {
    if (outcome.kind === 'sold') {
      this.sold += sign;
      this.grossSales += sign * outcome.price;
    } else if (outcome.kind === 'ifsale') this.ifSale += sign;
    else this.noSale += sign;
  }
}

/** Builds hand-made event sequences for tests: `script().at(10).up(1)` reads like a clerk's log. */
import type { LaneEvent } from '../../collector/events';

export const SALE_START = Date.UTC(2026, 10, 23, 14, 0, 0);
export const SALE = 'dallas-20261123-140000';

type Fields = Record<string, unknown>;

/** The sale and site a script's events belong to (another sale needs another `source` too: ids repeat). */
export interface ScriptSale {
  sale?: string;
  auction?: string;
}

export class EventScript {
  readonly events: LaneEvent[] = [];
  private ts = SALE_START;
  private n = 0;

  constructor(
    private readonly lane = '1',
    private readonly source = 'test',
    private readonly where: ScriptSale = {},
  ) {}

  /** Sets the time of the following events, in seconds after the sale start. */
  at(seconds: number): this {
    this.ts = SALE_START + Math.round(seconds * 1000);
    return this;
  }

  /** Milliseconds timestamp of `seconds` after the sale start. */
  static time(seconds: number): number {
    return SALE_START + Math.round(seconds * 1000);
  }

  push(type: LaneEvent['type'], fields: Fields = {}, lane: string | undefined = this.lane): this {
    this.n++;
    const event = {
      id: `${this.lane}-${this.n}`,
      type,
      ts: this.ts,
      source: this.source,
      auction: this.where.auction ?? 'dallas',
      sale: this.where.sale ?? SALE,
    };
    this.events.push({ ...event, ...(lane === undefined ? {} : { lane }), ...fields } as LaneEvent);
    return this;
  }

  opened(auctioneer = 'Ann', clerk = 'Carl') {
    return this.push('lane.opened', { auctioneer, clerk });
  }
  closed(auctioneer = 'Ann', clerk = 'Carl') {
    return this.push('lane.closed', { auctioneer, clerk });
  }
  staff(fields: { auctioneer?: string; clerk?: string }) {
    return this.push('lane.staff', fields);
  }
  attendance(online: number) {
    return this.push('attendance', { online });
  }
  up(run: number, vehicle: Fields = {}) {
    return this.push('vehicle.up', { run, ...vehicle });
  }
  submitted(run: number, bidId: string, amount: number, bidder?: string) {
    return this.push('bid.submitted', { run, bidId, amount, ...(bidder ? { bidder } : {}) });
  }
  bid(run: number, amount: number, channel: 'online' | 'floor' | 'proxy', bidId?: string) {
    return this.push('bid', { run, amount, channel, ...(bidId ? { bidId } : {}) });
  }
  sold(run: number, price: number, channel: 'online' | 'floor' = 'floor') {
    return this.push('vehicle.sold', { run, price, channel });
  }
  ifsale(run: number, highBid: number) {
    return this.push('vehicle.ifsale', { run, highBid });
  }
  nosale(run: number, highBid?: number) {
    return this.push('vehicle.nosale', { run, ...(highBid === undefined ? {} : { highBid }) });
  }
  retracted(run: number, amount: number) {
    return this.push('bid.retracted', { run, amount });
  }
  rerun(run: number) {
    return this.push('vehicle.rerun', { run });
  }
  reversed(run: number) {
    return this.push('sale.reversed', { run });
  }
  resolved(run: number, approved: boolean, price?: number) {
    return this.push('ifsale.resolved', { run, approved, ...(price === undefined ? {} : { price }) });
  }
  streamHealth(latencyMs: number) {
    return this.push('stream.health', { latencyMs });
  }
  heartbeat() {
    return this.push('heartbeat', {}, undefined);
  }
  saleOpened(name = 'Test sale') {
    return this.push('sale.opened', { name }, undefined);
  }
  saleClosed(name = 'Test sale') {
    return this.push('sale.closed', { name }, undefined);
  }
  withSeq(seq: number): this {
    (this.events.at(-1) as { seq?: number }).seq = seq;
    return this;
  }
}

export function script(lane?: string, source?: string, where?: ScriptSale): EventScript {
  return new EventScript(lane, source, where);
}

/**
 * The normalized event contract (../shared/EVENTS.md): runtime schemas and the types inferred
 * from them. Every feed is normalized into these events before anything else sees them, and
 * every other module imports the types from here.
 */
import { z } from 'zod';
import { compilePrecheck } from './precheck';

// Event times are integer ms since the epoch. The bounds catch the most common feed bug,
// seconds sent where milliseconds are expected, instead of storing points in 1970.
const EARLIEST_TS = Date.UTC(2000, 0, 1);
const LATEST_TS = Date.UTC(2100, 0, 1);

const id = z.string().min(1, 'must be a non-empty string').max(200, 'longer than 200 characters');
const count = z.int('must be an integer').min(0, 'must be ≥ 0');
const dollars = z.int('must be whole dollars').min(0, 'must be ≥ 0');
const timestamp = z
  .int('must be integer milliseconds since the epoch')
  .min(EARLIEST_TS, 'is before 2000-01-01 (seconds instead of milliseconds?)')
  .max(LATEST_TS, 'is after 2100-01-01');
const run = z.int('must be an integer run number').min(0, 'must be ≥ 0');

const envelope = {
  id,
  ts: timestamp,
  source: id,
  auction: id,
  sale: id,
  seq: z.int('must be an integer').min(0, 'must be ≥ 0').optional(),
};
const laneEnvelope = { ...envelope, lane: id };

export const BID_CHANNELS = ['online', 'floor', 'proxy'] as const;
export const SALE_CHANNELS = ['online', 'floor'] as const;

const kinds = [
  z.object({ ...envelope, type: z.literal('sale.opened'), name: z.string(), campaign: z.string().optional() }),
  z.object({ ...envelope, type: z.literal('sale.closed'), name: z.string(), campaign: z.string().optional() }),
  z.object({ ...laneEnvelope, type: z.literal('lane.opened'), auctioneer: id, clerk: id }),
  z.object({ ...laneEnvelope, type: z.literal('lane.closed'), auctioneer: id, clerk: id }),
  z
    .object({ ...laneEnvelope, type: z.literal('lane.staff'), auctioneer: id.optional(), clerk: id.optional() })
    .refine((e) => e.auctioneer !== undefined || e.clerk !== undefined, {
      message: 'names neither auctioneer nor clerk',
      path: ['auctioneer'],
    }),
  z.object({ ...laneEnvelope, type: z.literal('attendance'), online: count, watching: count.optional() }),
  z.object({
    ...laneEnvelope,
    type: z.literal('vehicle.up'),
    run,
    vin: z.string().optional(),
    year: z.int('must be an integer').min(1900).max(2100).optional(),
    make: z.string().optional(),
    model: z.string().optional(),
    floor: dollars.optional(),
    mmr: dollars.optional(),
    seller: z.string().optional(),
  }),
  z.object({
    ...laneEnvelope,
    type: z.literal('bid.submitted'),
    run,
    bidId: id,
    amount: dollars,
    bidder: z.string().optional(),
  }),
  z.object({
    ...laneEnvelope,
    type: z.literal('bid'),
    run,
    amount: dollars,
    channel: z.enum(BID_CHANNELS),
    bidId: id.optional(),
  }),
  z.object({
    ...laneEnvelope,
    type: z.literal('vehicle.sold'),
    run,
    price: dollars,
    channel: z.enum(SALE_CHANNELS),
    buyer: z.string().optional(),
  }),
  z.object({ ...laneEnvelope, type: z.literal('vehicle.ifsale'), run, highBid: dollars }),
  z.object({ ...laneEnvelope, type: z.literal('vehicle.nosale'), run, highBid: dollars.optional() }),
  z.object({ ...laneEnvelope, type: z.literal('bid.retracted'), run, amount: dollars }),
  z.object({ ...laneEnvelope, type: z.literal('vehicle.rerun'), run }),
  z.object({ ...laneEnvelope, type: z.literal('sale.reversed'), run }),
  z.object({
    ...laneEnvelope,
    type: z.literal('ifsale.resolved'),
    run,
    approved: z.boolean('must be true or false'),
    price: dollars.optional(),
  }),
  z.object({ ...laneEnvelope, type: z.literal('lane.bidding'), active: z.boolean('must be true or false') }),
  z.object({
    ...laneEnvelope,
    type: z.literal('stream.health'),
    latencyMs: count,
    stalls: count.optional(),
  }),
  z.object({ ...envelope, type: z.literal('heartbeat'), lane: id.optional() }),
] as const;

export const eventSchema = z.discriminatedUnion('type', kinds);

export type LaneEvent = z.infer<typeof eventSchema>;
export type EventType = LaneEvent['type'];
export type EventOf<T extends EventType> = Extract<LaneEvent, { type: T }>;
export type BidChannel = (typeof BID_CHANNELS)[number];

export const EVENT_TYPES: readonly EventType[] = kinds.map((k) => k.shape.type.value);

const acceptedAsIs = compilePrecheck(eventSchema);

export type ParseResult = { ok: true; event: LaneEvent } | { ok: false; reason: string };

/**
 * Validates one message against the contract. Never throws: a message that does not fit gets a
 * reason naming the field and what was wrong (e.g. `attendance.online: must be ≥ 0 (got -3)`),
 * which the pipeline counts and dead-letters. A message that fits exactly (the common case, see
 * precheck.ts) is returned as it is; otherwise the event is zod's copy, without unknown keys.
 */
export function parseEvent(message: unknown): ParseResult {
  if (acceptedAsIs(message)) return { ok: true, event: message as LaneEvent };
  const result = eventSchema.safeParse(message);
  if (result.success) return { ok: true, event: result.data };
  return { ok: false, reason: describeIssue(message, result.error.issues[0]) };
}

function describeIssue(message: unknown, issue: z.core.$ZodIssue | undefined): string {
  if (issue === undefined) return 'invalid event';
  const record = isRecord(message) ? message : undefined;
  if (record === undefined) return `event must be a JSON object (got ${kindOf(message)})`;
  const type = typeof record.type === 'string' ? record.type : undefined;
  if (issue.path.length === 1 && issue.path[0] === 'type') {
    if (type === undefined) return 'type: missing (must name an event kind)';
    return `type: unknown event kind ${JSON.stringify(type)}`;
  }
  const field = issue.path.map(String).join('.');
  const received = lookup(record, issue.path);
  const got = received === undefined ? 'missing' : `got ${excerpt(received)}`;
  if (issue.code === 'invalid_type' && received === undefined) return `${type ?? 'event'}.${field}: is required`;
  return `${type ?? 'event'}.${field}: ${issue.message} (${got})`;
}

function lookup(record: Record<string, unknown>, path: readonly PropertyKey[]): unknown {
  let value: unknown = record;
  for (const key of path) {
    if (!isRecord(value)) return undefined;
    value = value[key as string];
  }
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

function excerpt(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** The lane an event belongs to, if any (sale-level kinds and source heartbeats have none). */
export function laneOf(event: LaneEvent): string | undefined {
  return 'lane' in event ? event.lane : undefined;
}

/**
 * The contract's identity rule: an event whose (source, id) was already seen is a resend. Remembers
 * the last `capacity` identities in a ring, so eviction is O(1) however long the feed runs.
 */
export class SeenEvents {
  private readonly keys = new Set<string>();
  private readonly ring: (string | undefined)[];
  private next = 0;

  constructor(capacity: number) {
    this.ring = new Array<string | undefined>(capacity);
  }

  /** True if this event was seen before; otherwise remembers it and returns false. */
  seenBefore(event: Pick<LaneEvent, 'source' | 'id'>): boolean {
    const key = `${event.source}\u0000${event.id}`;
    if (this.keys.has(key)) return true;
    const evicted = this.ring[this.next];
    if (evicted !== undefined) this.keys.delete(evicted);
    this.ring[this.next] = key;
    this.next = (this.next + 1) % this.ring.length;
    this.keys.add(key);
    return false;
  }

  /** The remembered keys, oldest first: what a checkpoint needs to carry the window over a restart. */
  toData(): { capacity: number; keys: string[] } {
    const oldestFirst = [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
    return { capacity: this.ring.length, keys: oldestFirst.filter((key) => key !== undefined) };
  }

  static fromData(data: { capacity: number; keys: readonly string[] }): SeenEvents {
    const seen = new SeenEvents(data.capacity);
    for (const key of data.keys.slice(-data.capacity)) {
      seen.keys.add(key);
      seen.ring[seen.next] = key;
      seen.next = (seen.next + 1) % data.capacity;
    }
    return seen;
  }
}

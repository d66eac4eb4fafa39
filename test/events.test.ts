import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, parseEvent } from '../collector/events';

const envelope = { id: 'e1', ts: Date.UTC(2026, 10, 23, 14), source: 'edge-ws-1', auction: 'dallas', sale: 's1' };
const lane = { ...envelope, lane: '3' };

/** One valid example of every kind, and one way each goes wrong with the reason it must give. */
const cases: { event: Record<string, unknown>; bad: Record<string, unknown>; reason: string }[] = [
  {
    event: { ...envelope, type: 'sale.opened', name: 'Weekly', campaign: 'free-fees' },
    bad: { name: 42 },
    reason: 'sale.opened.name: Invalid input: expected string, received number (got 42)',
  },
  {
    event: { ...envelope, type: 'sale.closed', name: 'Weekly' },
    bad: { name: undefined },
    reason: 'sale.closed.name: is required',
  },
  {
    event: { ...lane, type: 'lane.opened', auctioneer: 'Ann', clerk: 'Carl' },
    bad: { clerk: '' },
    reason: 'lane.opened.clerk: must be a non-empty string (got "")',
  },
  {
    event: { ...lane, type: 'lane.closed', auctioneer: 'Ann', clerk: 'Carl' },
    bad: { lane: undefined },
    reason: 'lane.closed.lane: is required',
  },
  {
    event: { ...lane, type: 'lane.staff', clerk: 'Dana' },
    bad: { clerk: undefined },
    reason: 'lane.staff.auctioneer: names neither auctioneer nor clerk (missing)',
  },
  {
    event: { ...lane, type: 'attendance', online: 42, watching: 97 },
    bad: { online: -3 },
    reason: 'attendance.online: must be ≥ 0 (got -3)',
  },
  {
    event: { ...lane, type: 'vehicle.up', run: 101, vin: '1FT', year: 2019, make: 'Ford', model: 'F-150', mmr: 24000 },
    bad: { run: '101' },
    reason: 'vehicle.up.run: must be an integer run number (got "101")',
  },
  {
    event: { ...lane, type: 'bid.submitted', run: 101, bidId: 'b9', amount: 12000, bidder: 'u77' },
    bad: { bidId: undefined },
    reason: 'bid.submitted.bidId: is required',
  },
  {
    event: { ...lane, type: 'bid', run: 101, amount: 12000, channel: 'online', bidId: 'b9' },
    bad: { channel: 'phone' },
    reason: 'bid.channel: Invalid option: expected one of "online"|"floor"|"proxy" (got "phone")',
  },
  {
    event: { ...lane, type: 'vehicle.sold', run: 101, price: 12000, channel: 'floor' },
    bad: { price: 12000.5 },
    reason: 'vehicle.sold.price: must be whole dollars (got 12000.5)',
  },
  {
    event: { ...lane, type: 'vehicle.ifsale', run: 101, highBid: 11000 },
    bad: { highBid: -1 },
    reason: 'vehicle.ifsale.highBid: must be ≥ 0 (got -1)',
  },
  {
    event: { ...lane, type: 'vehicle.nosale', run: 101 },
    bad: { highBid: '9k' },
    reason: 'vehicle.nosale.highBid: must be whole dollars (got "9k")',
  },
  {
    event: { ...lane, type: 'bid.retracted', run: 101, amount: 12000 },
    bad: { amount: undefined },
    reason: 'bid.retracted.amount: is required',
  },
  {
    event: { ...lane, type: 'vehicle.rerun', run: 101 },
    bad: { run: -1 },
    reason: 'vehicle.rerun.run: must be ≥ 0 (got -1)',
  },
  {
    event: { ...lane, type: 'sale.reversed', run: 101 },
    bad: { run: null },
    reason: 'sale.reversed.run: must be an integer run number (got null)',
  },
  {
    event: { ...lane, type: 'ifsale.resolved', run: 101, approved: true, price: 11500 },
    bad: { approved: 'yes' },
    reason: 'ifsale.resolved.approved: must be true or false (got "yes")',
  },
  {
    event: { ...lane, type: 'lane.bidding', active: false },
    bad: { active: 0 },
    reason: 'lane.bidding.active: must be true or false (got 0)',
  },
  {
    event: { ...lane, type: 'stream.health', latencyMs: 1800, stalls: 2 },
    bad: { latencyMs: 1.5 },
    reason: 'stream.health.latencyMs: must be an integer (got 1.5)',
  },
  { event: { ...envelope, type: 'heartbeat' }, bad: { seq: -2 }, reason: 'heartbeat.seq: must be ≥ 0 (got -2)' },
];

describe('the event contract', () => {
  it('has a valid and an invalid example for every kind', () => {
    expect(cases.map((c) => c.event.type).sort()).toEqual([...EVENT_TYPES].sort());
  });

  it.each(cases)('accepts a valid $event.type', ({ event }) => {
    expect(parseEvent(event)).toEqual({ ok: true, event });
  });

  it.each(cases)('rejects a bad $event.type naming the field: $reason', ({ event, bad, reason }) => {
    expect(parseEvent({ ...event, ...bad })).toEqual({ ok: false, reason });
  });

  it('rejects timestamps in seconds, a common feed bug', () => {
    const result = parseEvent({ ...lane, type: 'attendance', online: 3, ts: 1795000000 });
    expect(result).toEqual({
      ok: false,
      reason: 'attendance.ts: is before 2000-01-01 (seconds instead of milliseconds?) (got 1795000000)',
    });
  });

  it('rejects an unknown or missing kind, and anything that is not an object', () => {
    expect(parseEvent({ ...lane, type: 'vehicle.sould' })).toEqual({
      ok: false,
      reason: 'type: unknown event kind "vehicle.sould"',
    });
    expect(parseEvent({ ...lane })).toEqual({ ok: false, reason: 'type: missing (must name an event kind)' });
    expect(parseEvent('{"type":"bid"}')).toEqual({ ok: false, reason: 'event must be a JSON object (got string)' });
    expect(parseEvent([lane])).toEqual({ ok: false, reason: 'event must be a JSON object (got an array)' });
    expect(parseEvent(null)).toEqual({ ok: false, reason: 'event must be a JSON object (got null)' });
  });

  it('requires the envelope on every kind', () => {
    const { id: _id, ...withoutId } = { ...lane, type: 'attendance', online: 1 };
    expect(parseEvent(withoutId)).toEqual({ ok: false, reason: 'attendance.id: is required' });
  });

  it('drops fields the contract does not know instead of passing them on', () => {
    const result = parseEvent({ ...lane, type: 'attendance', online: 5, debug: { x: 1 } });
    expect(result.ok && 'debug' in result.event).toBe(false);
  });
});

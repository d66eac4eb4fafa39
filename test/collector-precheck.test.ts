/**
 * The fast yes in front of zod (collector/precheck.ts): it may only ever say yes where zod accepts
 * the message unchanged, and it must say yes to what real feeds send, or it saves nothing.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { eventSchema, EVENT_TYPES, parseEvent } from '../collector/events';
import { compilePrecheck } from '../collector/precheck';
import { simulateSale } from '../collector/sources/simulator';

const precheck = compilePrecheck(eventSchema);

const envelope = { id: 'e1', ts: Date.UTC(2026, 10, 23, 14), source: 'edge-ws-1', auction: 'dallas', sale: 's1' };
const lane = { ...envelope, lane: '3', seq: 7 };

const simulated = [
  ...simulateSale({ seed: 3, lanes: 4, durationMin: 30, speed: 0, auction: 'dallas', start: envelope.ts }).events(),
];
/** One valid message of every kind: the simulator's first of each, and by hand the kinds it never sends. */
const examples: Record<string, unknown>[] = [
  ...EVENT_TYPES.flatMap((type) => simulated.find((e) => e.type === type) ?? []),
  { ...lane, type: 'lane.closed', auctioneer: 'Ann', clerk: 'Carl' },
  { ...lane, type: 'lane.staff', clerk: 'Dana' },
  { ...lane, type: 'lane.bidding', active: false },
  { ...lane, type: 'bid.retracted', run: 101, amount: 12000 },
  { ...lane, type: 'sale.reversed', run: 101 },
  { ...lane, type: 'vehicle.rerun', run: 101 },
  { ...envelope, type: 'sale.closed', name: 'Weekly' },
];

/** Values that sit on or just past a bound of some field, or are of the wrong type for most. */
const AWKWARD: unknown[] = [
  ...[undefined, null, true, false, {}, [], NaN, Infinity, -Infinity],
  ...['', 'x', 'x'.repeat(200), 'x'.repeat(201), '😀'.repeat(100), '😀'.repeat(101), 'online', 'floor', 'phone'],
  ...[-1, 0, 1, 1.5, -0, 2 ** 53 - 1, 2 ** 53, 1899, 1900, 2100, 2101],
  ...[Date.UTC(2000, 0, 1) - 1, Date.UTC(2000, 0, 1), Date.UTC(2100, 0, 1), Date.UTC(2100, 0, 1) + 1],
];

function variants(example: Record<string, unknown>): Record<string, unknown>[] {
  const kind = eventSchema.options.find((k) => k.shape.type.value === example.type);
  const keys = [...Object.keys(kind?.shape ?? {}), 'debug'];
  return keys.flatMap((key) => AWKWARD.map((value) => ({ ...example, [key]: value })));
}

describe('the precheck in front of zod', () => {
  it('has an example of every kind', () => {
    expect(new Set(examples.map((e) => e.type))).toEqual(new Set(EVENT_TYPES));
  });

  it('says yes only where zod accepts the message and returns it unchanged', () => {
    let yes = 0;
    let no = 0;
    for (const message of examples.flatMap(variants)) {
      if (!precheck(message)) {
        no++;
        continue;
      }
      yes++;
      const parsed = eventSchema.safeParse(message);
      expect(parsed.success, JSON.stringify(message)).toBe(true);
      expect(parsed.data).toEqual(message);
    }
    // Both answers were given many times, so the comparison above means something.
    expect(yes).toBeGreaterThan(500);
    expect(no).toBeGreaterThan(5000);
  });

  it('says yes to every event the simulator sends but the rare lane.staff, so the common case skips zod', () => {
    expect(simulated.length).toBeGreaterThan(1000);
    expect(simulated.filter((e) => e.type !== 'lane.staff' && !precheck(e))).toEqual([]);
  });

  it('leaves to zod a message with a key the contract does not know, which zod strips', () => {
    const message = { ...lane, type: 'attendance', online: 5, debug: true };
    expect(precheck(message)).toBe(false);
    const parsed = parseEvent(message);
    expect(parsed.ok && 'debug' in parsed.event).toBe(false);
  });

  it('leaves to zod a kind with a refinement, even when it is valid', () => {
    const staff = { ...lane, type: 'lane.staff', clerk: 'Dana' };
    expect(precheck(staff)).toBe(false);
    expect(parseEvent(staff)).toEqual({ ok: true, event: staff });
  });

  it('leaves to zod every construct it does not understand', () => {
    const schema = z.discriminatedUnion('type', [
      z.object({ type: z.literal('email'), value: z.email() }),
      z.object({ type: z.literal('coerced'), value: z.coerce.number() }),
      z.object({ type: z.literal('transformed'), value: z.string().transform((s) => s.trim()) }),
      z.object({ type: z.literal('multiple'), value: z.int().multipleOf(5) }),
      z.object({ type: z.literal('exact'), value: z.string().exactOptional() }),
      z.object({ type: z.literal('plain'), value: z.string().max(3) }),
    ]);
    const check = compilePrecheck(schema);
    expect(check({ type: 'email', value: 'a@b.co' })).toBe(false);
    expect(check({ type: 'coerced', value: 5 })).toBe(false);
    expect(check({ type: 'transformed', value: 'x' })).toBe(false);
    expect(check({ type: 'multiple', value: 10 })).toBe(false);
    expect(check({ type: 'exact', value: undefined })).toBe(false);
    expect(check({ type: 'plain', value: 'abc' })).toBe(true);
    expect(check({ type: 'plain', value: 'abcd' })).toBe(false);
  });

  it('passes a valid event through parseEvent as the very same object', () => {
    const event = simulated[100] as object;
    const parsed = parseEvent(event);
    expect(parsed.ok && parsed.event).toBe(event);
  });

  it('says no to anything that is not an object of a known kind', () => {
    for (const message of [null, undefined, 'event', 42, [lane], { ...lane }, { ...lane, type: 'vehicle.sould' }])
      expect(precheck(message)).toBe(false);
  });
});

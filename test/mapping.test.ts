import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseEvent } from '../collector/events';
import { compileMapping, loadMapping, MappingError, SHIPPED_MAPPINGS } from '../collector/mapping';
import { Invalid, mapTransform, patternTransform, TRANSFORMS } from '../collector/mapping/transforms';
import type { Normalizer } from '../collector/normalize';
import { parseLine } from '../collector/sources/replay';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

const lines = (file: string) =>
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');

/** What the pipeline makes of a recording: each event, or `{ rejected }` per message or event refused. */
function replay(normalizer: Normalizer, file: string): unknown[] {
  return lines(file).flatMap((line) => {
    const result = normalizer.normalize(parseLine(line));
    if (!result.ok) return [{ rejected: result.reason }];
    return result.events.map((candidate) => {
      const parsed = parseEvent(candidate);
      return parsed.ok ? parsed.event : { rejected: parsed.reason };
    });
  });
}

const feeds = fs.readdirSync(FIXTURES);

it('has golden fixtures for every shipped mapping', () => {
  expect(feeds).toEqual(expect.arrayContaining(Object.keys(SHIPPED_MAPPINGS)));
});

describe.each(feeds)('golden fixtures of the %s mapping', (mapping) => {
  const cases = fs.readdirSync(path.join(FIXTURES, mapping));
  const normalizer = loadMapping(mapping, { source: mapping });

  it('has a case for a run, its outcomes, a fan-out or staff change, and bad input', () => {
    expect(cases.length).toBeGreaterThanOrEqual(4);
  });

  it.each(cases)('%s', (name) => {
    const dir = path.join(FIXTURES, mapping, name);
    const expected = lines(path.join(dir, 'expected.ndjson')).map((l) => JSON.parse(l) as object);
    // The golden events themselves must be valid contract events, not only equal to the output.
    for (const line of expected) if (!('rejected' in line)) expect(parseEvent(line)).toMatchObject({ ok: true });
    expect(replay(normalizer, path.join(dir, 'input.ndjson'))).toStrictEqual(expected);
  });
});

describe('transforms', () => {
  const cases: [keyof typeof TRANSFORMS, unknown, unknown][] = [
    ['ms', '2024-12-05T09:14:03.250-06:00', Date.UTC(2024, 11, 5, 15, 14, 3, 250)],
    ['ms', '2024-12-05 15:14:03Z', Date.UTC(2024, 11, 5, 15, 14, 3)],
    ['ms', '2024-12-05T15:14Z', Date.UTC(2024, 11, 5, 15, 14)],
    ['ms', '2024-12-05T09:14:03.250', '"2024-12-05T09:14:03.250" is not an ISO 8601 time with a UTC offset'],
    ['ms', '2024-02-30T10:00:00Z', '"2024-02-30T10:00:00Z" is not an ISO 8601 time with a UTC offset'],
    ['ms', 1733411643250, '1733411643250 is not an ISO 8601 time with a UTC offset'],
    ['seconds', 1733412345.123, 1733412345123],
    ['seconds', '1733412345', 1733412345000],
    ['seconds', 'soon', '"soon" is not a time in epoch seconds'],
    ['dollars', '$12,350.00', 12350],
    ['dollars', '12350', 12350],
    ['dollars', 12350.4, 12350],
    ['dollars', ' $24,500 ', 24500],
    ['dollars', '12,3x0', '"12,3x0" is not a dollar amount'],
    ['dollars', '1,2345', '"1,2345" is not a dollar amount'],
    ['dollars', '$', '"$" is not a dollar amount'],
    ['dollars', null, 'null is not a dollar amount'],
    ['cents', 1235000, 12350],
    ['cents', 1235050, 12351],
    ['cents', '1234949', 12349],
    ['cents', 12350.5, '12350.5 is not a whole number of cents'],
    ['int', 112, 112],
    ['int', '112', 112],
    ['int', 11.5, '11.5 is not an integer'],
    ['int', 'one', '"one" is not an integer'],
    ['string', 4, '4'],
    ['string', { lane: 4 }, '{"lane":4} is not a string or number'],
    ['bool', 'Y', true],
    ['bool', 'false', false],
    ['bool', 0, false],
    ['bool', 'maybe', '"maybe" is not a boolean'],
    ['lower', 'DAL', 'dal'],
    ['upper', 'l4', 'L4'],
    ['upper', 4, '4 is not a string'],
  ];

  it.each(cases)('%s(%j) → %j', (name, input, output) => {
    const result = TRANSFORMS[name](input);
    expect(result instanceof Invalid ? result.reason : result).toStrictEqual(output);
  });

  it('maps enum values and refuses the rest, even names Object happens to have', () => {
    const channel = mapTransform({ I: 'online', F: 'floor' });
    expect(channel('I')).toBe('online');
    expect(channel('constructor')).toStrictEqual(new Invalid('"constructor" is not one of "I", "F"'));
    expect(mapTransform({ 1: true })(1)).toBe(true);
  });

  it('keeps the first capture group of a pattern', () => {
    expect(patternTransform('^\\d{4} (\\S+)')('2019 Ford F-150')).toBe('Ford');
    expect(patternTransform('^(\\d{4}) ')('Ford F-150')).toStrictEqual(
      new Invalid('"Ford F-150" does not match /^(\\d{4}) /'),
    );
  });
});

/** A minimal valid mapping, plus whatever a test needs. */
function mapping(rules: unknown[], envelope: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    description: 'test platform',
    envelope: { ts: { path: 't', transform: 'seconds' }, auction: { const: 'dallas' }, sale: 'sale', ...envelope },
    rules,
  };
}
const normalize = (json: unknown, message: unknown) => compileMapping(json, { source: 'feed' }).normalize(message);
const at = { t: 1733412345, sale: 's1' };

describe('mapping file validation', () => {
  let rules = 0;
  const rule = (extra: object = {}) => ({ match: { path: 'k', equals: `M${rules++}` }, type: 'heartbeat', ...extra });
  const errors: [unknown, string][] = [
    [
      mapping([rule(), rule(), rule({ type: 'bid', fields: { amount: { path: 'a', transform: 'dolars' } } })]),
      'rules.2.fields.amount.transform: unknown transform "dolars" (known: ms, seconds, dollars, cents, int, string, bool, lower, upper, {map}, {pattern})',
    ],
    [mapping([rule({ type: 'bids' })]), 'rules.0.type: unknown event kind "bids"'],
    [
      mapping([rule({ type: 'vehicle.rerun', fields: { runn: 'r' } })]),
      'rules.0.fields.runn: not a field of vehicle.rerun (has: run)',
    ],
    [
      mapping([rule({ fields: { source: 's' } })]),
      'rules.0.fields.source: is the configured source name; a mapping cannot set it',
    ],
    [
      { ...mapping([rule()]), envelope: { auction: 'a', sale: 's' } },
      'rules.0: "ts" is set neither in envelope nor in fields',
    ],
    [
      mapping([rule({ fields: { lane: { path: 'l', const: '4' } } })]),
      'rules.0.fields.lane: must have exactly one of "path", "const", "template"',
    ],
    [
      mapping([rule({ fields: { lane: '@.id' } })]),
      'rules.0.fields.lane: @ names the element of "each", and this rule has none',
    ],
    [
      mapping([rule({ match: { path: 'k..x', equals: 'X' } })]),
      'rules.0.match.path: must be a dotted path like lot.vehicle.year, bids.0.amount or @.id',
    ],
    [
      mapping([rule({ type: 'vehicle.up', fields: { run: { path: 'r', transform: { pattern: '\\d+' } } } })]),
      'rules.0.fields.run.transform.pattern: must be a regular expression with one capture group',
    ],
    [
      mapping([rule()], { sale: { template: 'fixed' } }),
      'envelope.sale.template: has no {path} placeholder (use const)',
    ],
    [mapping([rule({ type: undefined })]), 'rules.0: needs a "type" (or "ignore": true)'],
    [
      mapping([rule({ match: { path: 'k', equals: 'X', in: ['Y'] } })]),
      'rules.0.match: must have exactly one of "equals", "in"',
    ],
    [{ ...mapping([rule()]), version: 2 }, 'Unrecognized key: "version"'],
    [
      mapping([rule({ match: { path: 'k', in: ['X', 'Y'] } }), rule({ match: { path: 'k', equals: 'X' } })]),
      'rules.1.match: every value is taken by an earlier rule',
    ],
    [
      mapping([rule({ fields: { lane: 4 } })]),
      'rules.0.fields.lane: must be a path string or {"path" | "const" | "template", …}',
    ],
  ];

  it.each(errors.map(([json, message]) => ({ json, message })))('reports $message', ({ json, message }) => {
    expect(() => compileMapping(json, { source: 'feed' })).toThrow(new MappingError(`mapping is invalid — ${message}`));
  });

  it('names the mapping file and what is wrong with it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mapping-'));
    fs.writeFileSync(path.join(dir, 'broken.json'), '{"description": ');
    expect(() => loadMapping(path.join(dir, 'broken.json'), { source: 'f' })).toThrow(
      /^mapping .*broken.json is not JSON/,
    );
    fs.writeFileSync(
      path.join(dir, 'ok.json'),
      JSON.stringify(mapping([{ match: { path: 'k', equals: 'H' }, type: 'heartbeat' }])),
    );
    expect(loadMapping(path.join(dir, 'ok.json'), { source: 'f' }).normalize({ k: 'H', ...at })).toMatchObject({
      ok: true,
    });
    expect(() => loadMapping('clerk-consol', { source: 'f' })).toThrow(MappingError);
    expect(() => loadMapping('clerk-consol', { source: 'f' })).toThrow(
      'mapping clerk-consol is neither a shipped mapping (bidding-platform, clerk-console) nor a readable file',
    );
    fs.rmSync(dir, { recursive: true });
  });
});

describe('compiled mappings', () => {
  it('takes the first rule that matches, across rules on different paths', () => {
    const json = mapping([
      { name: 'first', match: { path: 'k', in: ['A', 'B'] }, type: 'heartbeat', fields: { lane: { const: '1' } } },
      { name: 'by-kind', match: { path: 'kind', equals: 'A' }, type: 'heartbeat', fields: { lane: { const: '2' } } },
      { name: 'later', match: { path: 'k', in: ['B', 'C'] }, type: 'heartbeat', fields: { lane: { const: '3' } } },
    ]);
    const laneOf = (m: object) => (normalize(json, { ...at, ...m }) as { events: { lane: string }[] }).events[0]?.lane;
    const lanes = [{ k: 'A' }, { kind: 'A' }, { k: 'B', kind: 'A' }, { k: 'C' }].map(laneOf);
    expect(lanes).toEqual(['1', '2', '1', '3']);
    expect(normalize(json, { k: 'D', ...at })).toEqual({ ok: false, reason: 'no mapping rule for k "D"' });
    expect(normalize(json, at)).toEqual({ ok: false, reason: 'no mapping rule for a message without k' });
  });

  it('ignores what the mapping says to ignore, and refuses what is not a JSON object', () => {
    const json = mapping([{ match: { path: 'k', equals: 'PING' }, ignore: true }]);
    expect(normalize(json, { k: 'PING' })).toEqual({ ok: true, events: [] });
    expect(normalize(json, 'PING')).toEqual({ ok: false, reason: 'message must be a JSON object (got string)' });
    expect(normalize(json, null)).toEqual({ ok: false, reason: 'message must be a JSON object (got null)' });
  });

  it('builds events from paths with array indexes, templates, constants, defaults and optional fields', () => {
    const json = mapping([
      {
        match: { path: 'k', equals: 'BID' },
        type: 'bid',
        fields: {
          id: { template: '{sale}/{bids.0.id}' },
          lane: { path: 'where.lane', transform: 'string' },
          run: 'lot.run',
          amount: { path: 'bids.0.amount', transform: 'dollars' },
          channel: { path: 'src', default: 'F', transform: { map: { F: 'floor', I: 'online' } } },
          bidId: { path: 'bids.0.id', optional: true },
        },
      },
    ]);
    const message = { k: 'BID', ...at, where: { lane: 4 }, lot: { run: 9 }, bids: [{ id: 'b1', amount: '$100' }] };
    expect(normalize(json, message)).toEqual({
      ok: true,
      events: [
        {
          id: 's1/b1',
          type: 'bid',
          source: 'feed',
          ts: 1733412345000,
          auction: 'dallas',
          sale: 's1',
          lane: '4',
          run: 9,
          amount: 100,
          channel: 'floor',
          bidId: 'b1',
        },
      ],
    });
    expect(normalize(json, { ...message, bids: [{ amount: 5 }] })).toEqual({
      ok: false,
      reason: 'BID.id: "bids.0.id" is missing',
    });
    expect(normalize(json, { ...message, lot: {} })).toEqual({ ok: false, reason: 'BID.run: "lot.run" is missing' });
  });

  it('gives a platform without ids the same id for a resent message, and a new one for a new message', () => {
    const json = mapping([{ match: { path: 'k', equals: 'H' }, type: 'heartbeat' }]);
    const idOf = (m: object) => (normalize(json, m) as { events: { id: string }[] }).events[0]?.id;
    expect(idOf({ k: 'H', ...at })).toBe(idOf(JSON.parse(JSON.stringify({ k: 'H', ...at })) as object));
    expect(idOf({ k: 'H', ...at })).not.toBe(idOf({ k: 'H', ...at, t: at.t + 1 }));
    expect(idOf({ k: 'H', ...at })).toMatch(/^[\w-]{22}$/);
  });

  it('fans out over an array, reading the element with @ and its parent by path', () => {
    const json = mapping([
      {
        match: { path: 'k', equals: 'SNAP' },
        type: 'attendance',
        each: 'lanes',
        fields: { lane: '@.id', online: { path: '@.n', transform: 'int' } },
      },
    ]);
    const snapshot = (...online: unknown[]) => ({
      k: 'SNAP',
      ...at,
      lanes: online.map((n, i) => ({ id: `L${i}`, n })),
    });
    const events = (normalize(json, snapshot(3, '4')) as { events: Record<string, unknown>[] }).events;
    expect(events.map((e) => [e.lane, e.online, e.sale])).toEqual([
      ['L0', 3, 's1'],
      ['L1', 4, 's1'],
    ]);
    expect(events[1]?.id).toBe(`${(events[0]?.id as string).slice(0, -2)}.1`);
    const reason = 'SNAP.online: "x" is not an integer (at lanes.1)';
    expect(normalize(json, snapshot(3, 'x'))).toEqual({ ok: false, reason });
    expect(normalize(json, { k: 'SNAP', ...at })).toEqual({ ok: false, reason: 'SNAP.each: "lanes" is missing' });
  });

  it('chooses the kind by a value map', () => {
    const json = mapping([
      {
        match: { path: 'k', equals: 'END' },
        type: { path: 'r', map: { S: 'vehicle.sold', N: 'vehicle.nosale' } },
        fields: { lane: { const: '1' }, run: 'run' },
      },
    ]);
    expect(normalize(json, { k: 'END', ...at, r: 'N', run: 1 })).toMatchObject({
      ok: true,
      events: [{ type: 'vehicle.nosale' }],
    });
    expect(normalize(json, { k: 'END', ...at, run: 1 })).toEqual({ ok: false, reason: 'END.type: "r" is missing' });
  });

  it('never throws, whatever the message holds', () => {
    const normalizer = loadMapping('bidding-platform', { source: 'bp' });
    const closed = { event: 'lot.closed', lot: 'x', auction: [], occurredAt: {} };
    const odd = [0, [], {}, { event: {} }, closed, { event: 'session.snapshot', lanes: [null, 1] }];
    for (const message of odd) expect(normalizer.normalize(message)).toMatchObject({ ok: false });
  });
});

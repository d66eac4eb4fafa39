/**
 * Events as InfluxDB line protocol (collector/sinks/influxdb.ts `toLines`), written byte by byte:
 * the exact bytes @influxdata/influxdb-client's escaper and Buffer.from would have made.
 */
import { escape } from '@influxdata/influxdb-client';
import { describe, expect, it } from 'vitest';
import type { LaneEvent } from '../collector/events';
import { toLines } from '../collector/sinks/influxdb';

const envelope = { id: 'e1', ts: Date.UTC(2026, 10, 23, 14), source: 'edge-ws-1', auction: 'dallas', sale: 's1' };
const bid = { ...envelope, lane: '3', seq: 7, type: 'bid', run: 101, amount: 12000, channel: 'online', bidId: 'b9' };

function line(event: object): string {
  return toLines([event as LaneEvent]).toString();
}

describe('line protocol for contract events', () => {
  it('writes the kind as measurement, the ids as sorted tags, the rest as fields, and a ns timestamp', () => {
    expect(line(bid)).toBe(
      'bid,auction=dallas,channel=online,lane=3,sale=s1,source=edge-ws-1 ' +
        'id="e1",seq=7i,run=101i,amount=12000i,bidId="b9" 1795442400000602383',
    );
    expect(line({ ...envelope, type: 'lane.bidding', lane: '3', active: false })).toMatch(
      /^lane_bidding,auction=dallas,lane=3,sale=s1,source=edge-ws-1 id="e1",active=false \d{19}$/,
    );
  });

  it('pads the sub-millisecond digits hashed from the id to six', () => {
    expect(line({ ...envelope, id: 'e7', type: 'heartbeat' })).toBe(
      'heartbeat,auction=dallas,sale=s1,source=edge-ws-1 id="e7" 1795442400000047145',
    );
  });

  it('gives the same event the same point every time, and another id another point', () => {
    expect(line(bid)).toBe(line({ ...bid }));
    expect(line({ ...bid, id: 'e2' }).slice(-6)).not.toBe(line(bid).slice(-6));
  });

  it('escapes tags and string fields as the InfluxDB client does', () => {
    const awkward = 'a,b=c d\\e\nf\rg\th"i';
    const event = { ...bid, auction: awkward, lane: awkward, sale: awkward, source: awkward, bidId: awkward };
    const tag = escape.tag(awkward);
    expect(line(event)).toBe(
      `bid,auction=${tag},channel=online,lane=${tag},sale=${tag},source=${tag} ` +
        `id="e1",seq=7i,run=101i,amount=12000i,bidId=${escape.quoted(awkward)} ${line(event).slice(-19)}`,
    );
  });

  it('encodes text as UTF-8, a lone surrogate as U+FFFD like Buffer.from', () => {
    for (const text of ['é', '日本', '😀', 'x\ud800y', 'x\udc00', 'end\ud83d', '\u2028']) {
      const event = { ...envelope, type: 'sale.opened', name: text, auction: text };
      const expected = `sale_opened,auction=${text},sale=s1,source=edge-ws-1 id="e1",name="${text}" `;
      const bytes = toLines([event as LaneEvent]);
      expect(bytes.subarray(0, -19)).toEqual(Buffer.from(expected));
    }
  });

  it('writes integers from 0 to 2^53 − 1, negative ones, and a non-integer as JS prints it', () => {
    const fields = (amount: number) => line({ ...bid, amount }).split(' ')[1];
    expect(fields(0)).toContain(',amount=0i,');
    expect(fields(9007199254740991)).toContain(',amount=9007199254740991i,');
    expect(fields(1_000_000)).toContain(',amount=1000000i,');
    expect(fields(-42)).toContain(',amount=-42i,');
    expect(fields(1.5)).toContain(',amount=1.5i,');
  });

  it('leaves out optional fields that are absent', () => {
    expect(line({ ...envelope, type: 'sale.opened', name: 'Weekly', campaign: undefined })).not.toContain('campaign');
  });

  it('joins a batch with newlines, none after the last, however large it grows', () => {
    const long = 'x'.repeat(100_000);
    const body = toLines([bid, { ...envelope, type: 'sale.opened', name: long }, bid] as LaneEvent[]).toString();
    const lines = body.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(line(bid));
    expect(lines[1]).toContain(`name="${long}"`);
    expect(lines[2]).toBe(line(bid));
  });
});

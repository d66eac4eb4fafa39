import { escape } from '@influxdata/influxdb-client';
import { laneOf, type LaneEvent } from '../events';
import type { InfluxStore } from '../../storage/influxdb';
import type { Batch } from '../spool';
import type { Sink } from './sink';

/**
 * Raw events as InfluxDB points: one measurement per event kind (`vehicle.sold` → `vehicle_sold`),
 * tagged only with low-cardinality ids; everything else — including VINs, bidder ids and the event
 * id — is a field, so series cardinality stays at lanes × sources × channels.
 */
export class InfluxEventSink implements Sink {
  readonly name = 'influxdb';
  // Points carry their own timestamps and a rewrite is a no-op, so batches may overlap; two in
  // flight keep InfluxDB busy while the next one is being sent.
  readonly concurrentWrites = 2;

  constructor(private readonly store: InfluxStore) {}

  write(batch: Batch): Promise<void> {
    return this.store.writeLines(batch.events.map(toLine));
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

export function measurementOf(type: LaneEvent['type']): string {
  return type.replace('.', '_');
}

const NOT_FIELDS = new Set(['auction', 'sale', 'lane', 'source', 'channel', 'type', 'ts']);

// Measurements, tag keys and field keys are the contract's own identifiers and need no escaping.
// Most ids and names need none either; testing for that first skips the client's per-character
// escaper, which was most of the cost of a line.
const TAG_SPECIALS = /[,= \\\n\r\t]/;
const STRING_SPECIALS = /["\\]/;

export function toLine(event: LaneEvent): string {
  const channel = 'channel' in event ? event.channel : undefined;
  const lane = laneOf(event);
  // Tags in key order, as InfluxDB sorts them anyway and this saves it the work.
  let line = `${measurementOf(event.type)},auction=${tag(event.auction)}`;
  if (channel !== undefined) line += `,channel=${channel}`;
  if (lane !== undefined) line += `,lane=${tag(lane)}`;
  line += `,sale=${tag(event.sale)},source=${tag(event.source)}`;
  let separator = ' ';
  for (const key in event) {
    const value = event[key as keyof LaneEvent] as string | number | boolean | undefined;
    if (value === undefined || NOT_FIELDS.has(key)) continue;
    line += `${separator}${key}=${fieldValue(value)}`;
    separator = ',';
  }
  return `${line} ${timestampNs(event)}`;
}

function tag(value: string): string {
  return TAG_SPECIALS.test(value) ? escape.tag(value) : value;
}

function fieldValue(value: string | number | boolean): string {
  if (typeof value === 'number') return `${value}i`; // the contract's numbers are all integers
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return STRING_SPECIALS.test(value) ? escape.quoted(value) : `"${value}"`;
}

/**
 * InfluxDB keeps one point per measurement + tags + timestamp, so two bids of one lane in the same
 * millisecond would overwrite each other. The sub-millisecond digits come from a hash of the event
 * id: distinct events almost never collide (1 in 10⁶ per same-ms pair), and the same event always
 * maps to the same point, so writing a batch twice changes nothing.
 */
function timestampNs(event: LaneEvent): string {
  return `${event.ts}${String(fnv1a(`${event.source}\u0000${event.id}`) % 1_000_000).padStart(6, '0')}`;
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

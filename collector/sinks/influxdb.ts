import { eventSchema, laneOf, type EventType, type LaneEvent } from '../events';
import type { InfluxStore } from '../../storage/influxdb';
import type { Batch } from '../spool';
import { escapeTable, Utf8Writer } from './utf8-writer';
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
    return this.store.writeLines(toLines(batch.events));
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

export function measurementOf(type: LaneEvent['type']): string {
  return type.replace('.', '_');
}

const TAGS_AND_TIME = new Set(['auction', 'sale', 'lane', 'source', 'channel', 'type', 'ts']);

/**
 * Per kind, its measurement and the keys that become fields, in the contract's order: looking up
 * a kind's list beats walking every key of every event and asking whether it is a tag.
 */
const KINDS = new Map(
  eventSchema.options.map((kind) => {
    const type: EventType = kind.shape.type.value;
    const fields = Object.keys(kind.shape).filter((key) => !TAGS_AND_TIME.has(key));
    return [type, { measurement: measurementOf(type), fields: fields as (keyof LaneEvent)[] }];
  }),
);
/** Bytes a line takes, roughly: enough that a batch's buffer seldom has to grow. */
const LINE_BYTES = 256;

// Line protocol escapes as @influxdata/influxdb-client's `escape` does: tag values escape `,` `=`
// and space and spell out `\n` `\r` `\t`; string fields escape `"` and `\`. Measurements, tag keys
// and field keys are the contract's own identifiers and need no escaping.
const TAG_VALUE = escapeTable({ ',': ',', '=': '=', ' ': ' ', '\n': 'n', '\r': 'r', '\t': 't' });
const STRING_FIELD = escapeTable({ '"': '"', '\\': '\\' });

/** The events' points as one line-protocol request body, written in one pass. */
export function toLines(events: readonly LaneEvent[]): Buffer {
  const out = new Utf8Writer(events.length * LINE_BYTES);
  events.forEach((event, i) => {
    if (i > 0) out.char(0x0a);
    writePoint(out, event);
  });
  return out.toBuffer();
}

function writePoint(out: Utf8Writer, event: LaneEvent): void {
  const kind = KINDS.get(event.type) as { measurement: string; fields: (keyof LaneEvent)[] };
  out.ascii(kind.measurement);
  // Tags in key order, as InfluxDB sorts them anyway and this saves it the work.
  writeTag(out, ',auction=', event.auction);
  if ('channel' in event) writeTag(out, ',channel=', event.channel);
  const lane = laneOf(event);
  if (lane !== undefined) writeTag(out, ',lane=', lane);
  writeTag(out, ',sale=', event.sale);
  writeTag(out, ',source=', event.source);
  let separator = 0x20; // a space before the first field, commas between the rest
  for (const key of kind.fields) {
    const value = event[key] as string | number | boolean | undefined;
    if (value === undefined) continue;
    out.char(separator);
    separator = 0x2c;
    out.ascii(key);
    out.char(0x3d); // =
    if (typeof value === 'boolean') out.ascii(value ? 'true' : 'false');
    else if (typeof value === 'string') {
      out.char(0x22);
      out.text(value, STRING_FIELD);
      out.char(0x22);
    } else {
      // The contract's numbers are all integers; anything else is written as JS prints it.
      if (Number.isSafeInteger(value)) out.integer(value);
      else out.ascii(String(value));
      out.char(0x69); // i
    }
  }
  out.char(0x20);
  out.integer(event.ts);
  out.digits(subMillisecond(event), 6);
}

function writeTag(out: Utf8Writer, prefix: string, value: string): void {
  out.ascii(prefix);
  out.text(value, TAG_VALUE);
}

/**
 * InfluxDB keeps one point per measurement + tags + timestamp, so two bids of one lane in the same
 * millisecond would overwrite each other. The sub-millisecond digits come from a hash of the event
 * id: distinct events almost never collide (1 in 10⁶ per same-ms pair), and the same event always
 * maps to the same point, so writing a batch twice changes nothing.
 */
function subMillisecond(event: LaneEvent): number {
  // FNV-1a of `${source}\u0000${id}`, without building that string.
  let hash = fnv1a(0x811c9dc5, event.source);
  hash = Math.imul(hash, 0x01000193); // the \u0000 between them
  return (fnv1a(hash, event.id) >>> 0) % 1_000_000;
}

function fnv1a(hash: number, text: string): number {
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash;
}

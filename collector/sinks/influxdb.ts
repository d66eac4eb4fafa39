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

/** Escaped `measurement,tags` per series: a sale has few series and many events. */
const seriesPrefixes = new Map<string, string>();
const fieldKeys = new Map<string, string>();

export function toLine(event: LaneEvent): string {
  const channel = 'channel' in event ? event.channel : undefined;
  const lane = laneOf(event);
  const series = `${event.type}\u0000${event.auction}\u0000${channel}\u0000${lane}\u0000${event.sale}\u0000${event.source}`;
  let line = seriesPrefixes.get(series);
  if (line === undefined) {
    // Tags in key order, as InfluxDB sorts them anyway and this saves it the work.
    line = `${escape.measurement(measurementOf(event.type))},auction=${escape.tag(event.auction)}`;
    if (channel !== undefined) line += `,channel=${escape.tag(channel)}`;
    if (lane !== undefined) line += `,lane=${escape.tag(lane)}`;
    line += `,sale=${escape.tag(event.sale)},source=${escape.tag(event.source)}`;
    if (seriesPrefixes.size > 10_000) seriesPrefixes.clear();
    seriesPrefixes.set(series, line);
  }
  let separator = ' ';
  for (const key in event) {
    const value = event[key as keyof LaneEvent] as string | number | boolean | undefined;
    if (value === undefined || NOT_FIELDS.has(key)) continue;
    let fieldKey = fieldKeys.get(key);
    if (fieldKey === undefined) fieldKeys.set(key, (fieldKey = escape.tag(key)));
    line += `${separator}${fieldKey}=${fieldValue(value)}`;
    separator = ',';
  }
  return `${line} ${timestampNs(event)}`;
}

function fieldValue(value: string | number | boolean): string {
  if (typeof value === 'number') return `${value}i`; // the contract's numbers are all integers
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return escape.quoted(value); // adds the surrounding quotes itself
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

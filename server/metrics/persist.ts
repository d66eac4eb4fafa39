/**
 * Engine checkpoints for restarts: the whole engine state — lanes, windows, rollups, reorder
 * buffers, the dedup window — as JSON text, and back. Restored and fed the rest of the events,
 * an engine ends exactly where an uninterrupted one does.
 *
 * JSON has no Maps, Sets, class instances, ±Infinity or undefined, so those are written as tagged
 * objects `{ "#": tag, "v": value }`. Every class in the state is named in one registry; a state
 * holding an instance of any other class fails to serialize instead of restoring wrong.
 */
import { SeenEvents } from '../../collector/events';
import { AttendanceSum } from './attendance-sum';
import type { EngineState } from './engine';
import { LaneState } from './lane';
import { ReorderBuffer } from './reorder';
import { SeqGaps } from './seq-gaps';
import { RunTally, StaffTally, Staffing } from './tally';
import { RecentValues, SortedValues, TimeWindow } from './windows';

/** Bump when the shape of the engine state changes: an older checkpoint is then refused. */
export const ENGINE_CHECKPOINT_VERSION = 1;

const TAG = '#';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any class, whatever its constructor takes
type Class<T extends object = object> = abstract new (...args: any[]) => T;

interface ClassCodec<T extends object = object> {
  type: Class<T>;
  save(value: T): unknown;
  load(data: unknown): T;
}

/** A class whose own fields are its whole state: saved as they are, restored onto its prototype. */
function byFields<T extends object>(type: Class<T>): ClassCodec<T> {
  return {
    type,
    save: (value) => ({ ...value }),
    load: (data) => Object.assign(Object.create(type.prototype as object) as T, data),
  };
}

const CLASSES = {
  LaneState: byFields(LaneState),
  RunTally: byFields(RunTally),
  StaffTally: byFields(StaffTally),
  Staffing: byFields(Staffing),
  AttendanceSum: byFields(AttendanceSum),
  SeqGaps: byFields(SeqGaps),
  RecentValues: byFields(RecentValues),
  SortedValues: byFields(SortedValues),
  SeenEvents: {
    type: SeenEvents,
    save: (seen) => seen.toData(),
    load: (data) => SeenEvents.fromData(data as ReturnType<SeenEvents['toData']>),
  } satisfies ClassCodec<SeenEvents>,
  TimeWindow: {
    type: TimeWindow,
    save: (window) => window.toData(),
    load: (data) => TimeWindow.fromData(data as ReturnType<TimeWindow<unknown>['toData']>),
  } satisfies ClassCodec<TimeWindow<unknown>>,
  ReorderBuffer: {
    type: ReorderBuffer,
    save: (buffer) => buffer.toData(),
    load: (data) => ReorderBuffer.fromData(data as ReturnType<ReorderBuffer['toData']>),
  } satisfies ClassCodec<ReorderBuffer>,
} satisfies Record<string, ClassCodec>;

type ClassName = keyof typeof CLASSES;
const CLASS_NAMES = new Map<unknown, ClassName>(
  (Object.keys(CLASSES) as ClassName[]).map((name) => [CLASSES[name].type, name]),
);

export function serializeEngine(state: EngineState): string {
  return JSON.stringify({ version: ENGINE_CHECKPOINT_VERSION, engine: encode(state) });
}

/** Rebuilds an engine from `serializeEngine`'s text; throws if it was written by another version. */
export function restoreEngine(text: string): EngineState {
  const checkpoint = JSON.parse(text) as { version?: unknown; engine?: unknown };
  if (checkpoint.version !== ENGINE_CHECKPOINT_VERSION) {
    throw new Error(
      `engine checkpoint version ${String(checkpoint.version)} does not match this build's version ` +
        `${ENGINE_CHECKPOINT_VERSION}: rebuild the state from the event stream instead`,
    );
  }
  return decode(checkpoint.engine) as EngineState;
}

function encode(value: unknown): unknown {
  if (value === undefined) return { [TAG]: 'undefined' };
  if (typeof value === 'number') return Number.isFinite(value) ? value : { [TAG]: 'number', v: String(value) };
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return Array.from(value, encode);
  if (value instanceof Map) return { [TAG]: 'Map', v: Array.from(value, ([k, v]) => [encode(k), encode(v)]) };
  if (value instanceof Set) return { [TAG]: 'Set', v: Array.from(value, encode) };
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype) {
    const name = CLASS_NAMES.get((prototype as { constructor: unknown }).constructor);
    if (name === undefined) {
      const type = (prototype as { constructor?: { name?: string } }).constructor?.name ?? 'unknown';
      throw new Error(`cannot checkpoint an instance of ${type}: add it to CLASSES in server/metrics/persist.ts`);
    }
    return { [TAG]: name, v: encode((CLASSES[name] as ClassCodec).save(value)) };
  }
  const fields: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (key === TAG) throw new Error(`cannot checkpoint an object with a "${TAG}" field`);
    fields[key] = encode(field);
  }
  return fields;
}

function decode(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(decode);
  const record = value as Record<string, unknown>;
  const tag = record[TAG];
  if (tag === undefined) {
    const fields: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(record)) fields[key] = decode(field);
    return fields;
  }
  if (tag === 'undefined') return undefined;
  if (tag === 'number') return Number(record.v);
  if (tag === 'Map') return new Map((record.v as [unknown, unknown][]).map(([k, v]) => [decode(k), decode(v)]));
  if (tag === 'Set') return new Set((record.v as unknown[]).map(decode));
  if (typeof tag === 'string' && tag in CLASSES) {
    return (CLASSES[tag as ClassName] as ClassCodec).load(decode(record.v));
  }
  throw new Error(`engine checkpoint holds an unknown type ${JSON.stringify(tag)}`);
}

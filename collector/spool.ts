/**
 * A sink's on-disk FIFO of batches, used while its store is unreachable. Append-only NDJSON
 * segment files (one batch a line) plus a cursor file naming the next batch to write; appends are
 * fsync'd before they are acknowledged, the cursor is replaced atomically after each batch is
 * written, so a crash at any point loses nothing acknowledged and at worst re-writes one batch
 * (writes are idempotent). Over its size cap the oldest segments are dropped, and counted.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { LaneEvent } from './events';

export interface Batch {
  /** Stable across retries and restarts: sinks use it to make a re-write a no-op. */
  id: string;
  events: readonly LaneEvent[];
}

interface Segment {
  number: number;
  /** File size. */
  bytes: number;
  /** Events in the segment not yet written to the sink. */
  unreadEvents: number;
}

interface Cursor {
  segment: number;
  offset: number;
}

export interface SpoolOptions {
  /** Unwritten bytes kept at most; past it the oldest segments are dropped. */
  maxBytes: number;
  segmentBytes?: number;
}

const CURSOR = 'cursor.json';

export class Spool {
  private segments: Segment[] = [];
  private cursor: Cursor = { segment: 1, offset: 0 };
  /** Lines of the segment being read, from the cursor on, with their byte lengths. */
  private readable: { line: string; bytes: number }[] = [];
  droppedEvents = 0;

  private readonly maxBytes: number;
  private readonly segmentBytes: number;

  private constructor(
    readonly dir: string,
    options: SpoolOptions,
  ) {
    this.maxBytes = options.maxBytes;
    // Small enough that the cap drops little at a time, large enough to keep the file count low.
    this.segmentBytes = options.segmentBytes ?? Math.min(16 * 1024 * 1024, Math.max(4096, options.maxBytes / 8));
  }

  /** Opens (or creates) the spool in `dir`, recovering from a crash mid-append. */
  static async open(dir: string, options: SpoolOptions): Promise<Spool> {
    await fsp.mkdir(dir, { recursive: true });
    const spool = new Spool(dir, options);
    await spool.load();
    return spool;
  }

  get isEmpty(): boolean {
    return this.pendingEvents === 0;
  }

  /** Bytes on disk not yet written to the sink. */
  get pendingBytes(): number {
    return this.segments.reduce((sum, s) => sum + s.bytes, 0) - this.cursor.offset;
  }

  get pendingEvents(): number {
    return this.segments.reduce((sum, s) => sum + s.unreadEvents, 0);
  }

  /** Appends batches durably (fsync) and returns how many events the size cap pushed out. */
  async append(batches: readonly Batch[]): Promise<number> {
    if (batches.length === 0) return 0;
    let current = this.segments.at(-1);
    if (!current || current.bytes >= this.segmentBytes) {
      current = { number: (current?.number ?? this.cursor.segment - 1) + 1, bytes: 0, unreadEvents: 0 };
      this.segments.push(current);
    }
    const text = batches.map((b) => JSON.stringify(b) + '\n').join('');
    const handle = await fsp.open(this.segmentPath(current.number), 'a');
    try {
      await handle.write(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    current.bytes += Buffer.byteLength(text);
    current.unreadEvents += batches.reduce((sum, b) => sum + b.events.length, 0);
    return this.enforceCap();
  }

  /** The oldest batch not yet written, or undefined when the spool is empty. */
  async peek(): Promise<Batch | undefined> {
    await this.fillReadable();
    const next = this.readable[0];
    return next && (JSON.parse(next.line) as Batch);
  }

  /** Marks the batch returned by `peek` as written. */
  async ack(): Promise<void> {
    const done = this.readable.shift();
    const first = this.segments[0];
    if (!done || !first) return;
    this.cursor.offset += done.bytes;
    first.unreadEvents -= eventsIn(done.line);
    await this.dropWrittenSegments();
    await this.saveCursor();
  }

  /** Deletes leading segments whose every batch is written (the last one stays, to append to). */
  private async dropWrittenSegments(): Promise<void> {
    for (let first = this.segments[0]; first && this.segments.length > 1 && this.cursor.offset >= first.bytes;) {
      this.segments.shift();
      await fsp.rm(this.segmentPath(first.number), { force: true });
      first = this.segments[0];
      this.cursor = { segment: first?.number ?? this.cursor.segment + 1, offset: 0 };
    }
  }

  private async fillReadable(): Promise<void> {
    if (this.readable.length > 0) return;
    await this.dropWrittenSegments();
    const first = this.segments[0];
    if (!first || this.cursor.offset >= first.bytes) return;
    const buffer = await fsp.readFile(this.segmentPath(first.number));
    const text = buffer.subarray(this.cursor.offset).toString('utf8');
    this.readable = text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => ({ line, bytes: Buffer.byteLength(line) + 1 }));
  }

  private async enforceCap(): Promise<number> {
    let dropped = 0;
    while (this.pendingBytes > this.maxBytes && this.segments.length > 1) {
      const oldest = this.segments.shift() as Segment;
      dropped += oldest.unreadEvents;
      await fsp.rm(this.segmentPath(oldest.number), { force: true });
      this.readable = [];
      this.cursor = { segment: this.segments[0]?.number ?? oldest.number + 1, offset: 0 };
    }
    if (dropped > 0) {
      this.droppedEvents += dropped;
      await this.saveCursor();
    }
    return dropped;
  }

  private async load(): Promise<void> {
    try {
      this.cursor = JSON.parse(await fsp.readFile(path.join(this.dir, CURSOR), 'utf8')) as Cursor;
    } catch {
      this.cursor = { segment: 1, offset: 0 };
    }
    const numbers = (await fsp.readdir(this.dir))
      .filter((f) => /^\d{8}\.ndjson$/.test(f))
      .map((f) => Number(f.slice(0, 8)))
      .filter((n) => n >= this.cursor.segment)
      .sort((a, b) => a - b);
    // The cursor's segment is gone once it was fully written: start at the next one.
    if (numbers[0] !== undefined && numbers[0] !== this.cursor.segment)
      this.cursor = { segment: numbers[0], offset: 0 };
    for (const number of numbers) {
      const file = this.segmentPath(number);
      let buffer = await fsp.readFile(file);
      // A crash mid-append can leave a torn last line: it was never acknowledged, so cut it off.
      if (buffer.length > 0 && buffer[buffer.length - 1] !== 0x0a) {
        buffer = buffer.subarray(0, buffer.lastIndexOf(0x0a) + 1);
        await fsp.truncate(file, buffer.length);
      }
      const unread = buffer.subarray(number === this.cursor.segment ? this.cursor.offset : 0).toString('utf8');
      const unreadEvents = unread.split('\n').reduce((sum, line) => sum + (line ? eventsIn(line) : 0), 0);
      this.segments.push({ number, bytes: buffer.length, unreadEvents });
    }
  }

  private async saveCursor(): Promise<void> {
    const file = path.join(this.dir, CURSOR);
    await fsp.writeFile(`${file}.tmp`, JSON.stringify(this.cursor));
    await fsp.rename(`${file}.tmp`, file);
  }

  private segmentPath(number: number): string {
    return path.join(this.dir, `${String(number).padStart(8, '0')}.ndjson`);
  }
}

function eventsIn(line: string): number {
  return (JSON.parse(line) as Batch).events.length;
}

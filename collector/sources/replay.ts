/**
 * Replays a recording: an NDJSON file of contract events or of a platform's raw messages, streamed
 * line by line, as fast as the pipeline pulls or paced at `speed`× by the messages' own times.
 */
import fs from 'node:fs';
import readline from 'node:readline';
import { systemClock, type Clock } from './clock';
import type { Source } from './source';

export interface ReplayProgress {
  bytesRead: number;
  totalBytes: number;
  /** Non-blank lines read so far, including those outside `from`/`to`. */
  messages: number;
}

export interface ReplayOptions {
  name: string;
  file: string;
  /** 0 = as fast as the pipeline pulls; N = N× the recorded pace (1 = as it happened). */
  speed: number;
  /** Epoch ms: only messages timed `from` ≤ time < `to` are played. */
  from?: number | undefined;
  to?: number | undefined;
  /**
   * A message's event time in epoch ms, or undefined when it has none (a bad line, a ping): those
   * are played without waiting, and kept or skipped by `from`/`to` as the timed message before
   * them was. Called once per message, only when pacing or filtering. Defaults to the contract's
   * `ts`; for a raw recording, e.g. the `ts` of what the platform's mapping makes of it.
   */
  timeOf?: (message: unknown) => number | undefined;
  /** Called each time a chunk of the file (64 KB) has been read, and once at the end or abort. */
  onProgress?: (progress: ReplayProgress) => void;
  clock?: Clock;
}

/** A recorded line as the feed delivered it: its JSON, or the raw text for the pipeline to reject. */
export function parseLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return line;
  }
}

function contractTs(message: unknown): number | undefined {
  const ts = typeof message === 'object' && message !== null ? (message as { ts?: unknown }).ts : undefined;
  return typeof ts === 'number' ? ts : undefined;
}

export class ReplaySource implements Source {
  readonly name: string;

  constructor(private readonly options: ReplayOptions) {
    if (!(options.speed >= 0)) throw new RangeError(`speed must be ≥ 0 (got ${options.speed})`);
    this.name = options.name;
  }

  /** Throws only if the file cannot be read; a bad line is yielded as its text. */
  async *messages(signal: AbortSignal): AsyncIterable<unknown> {
    const { file, speed, from, to, onProgress } = this.options;
    const timeOf = this.options.timeOf ?? contractTs;
    const clock = this.options.clock ?? systemClock;
    // Reading a raw message's time may mean mapping it: only done when pacing or filtering needs it.
    const timed = speed > 0 || from !== undefined || to !== undefined;
    const outside = (time: number) => (from !== undefined && time < from) || (to !== undefined && time >= to);
    const totalBytes = (await fs.promises.stat(file)).size;
    const input = fs.createReadStream(file, { signal });
    // readline's iterator pauses the file while 1024 lines wait, so memory stays bounded.
    const lines = readline.createInterface({ input, crlfDelay: Infinity });
    let messages = 0;
    let reportedBytes = -1;
    const report = () => {
      reportedBytes = input.bytesRead;
      onProgress?.({ bytesRead: input.bytesRead, totalBytes, messages });
    };
    // Each message is due at a fixed offset from the first one played, so lateness never accumulates.
    let origin: { wall: number; time: number } | undefined;
    let placedAt: number | undefined;
    try {
      for await (const line of lines) {
        if (input.bytesRead !== reportedBytes) report();
        if (line.trim() === '') continue;
        messages++;
        const message = parseLine(line);
        const time = timed ? timeOf(message) : undefined;
        placedAt = time ?? placedAt;
        if (placedAt !== undefined && outside(placedAt)) continue;
        if (speed > 0 && time !== undefined) {
          origin ??= { wall: clock.now(), time };
          const wait = origin.wall + (time - origin.time) / speed - clock.now();
          if (wait > 0) await clock.sleep(wait, signal);
        }
        if (signal.aborted) return;
        yield message;
      }
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    } finally {
      report();
      lines.close();
      input.destroy();
    }
  }
}

/**
 * Replays a recorded feed through the collector into InfluxDB and Redis, then prints what became of
 * it. Exits 1 if a store refused or dropped anything, or some of it still waits in the spool (a store
 * was down when the replay was stopped); 2 on bad arguments, an unreadable file or a bad mapping.
 *
 *   tsx collector/replay.ts <file> [--mapping <name|path>] [--source <name>] [--speed <N>] [--from <ISO>] [--to <ISO>]
 */
import fs from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import { pino } from 'pino';
import { loadConfig } from '../config';
import { startCollector } from './collector';
import { loadMapping, MappingError } from './mapping';
import { parseTime } from './mapping/transforms';
import type { Normalizer } from './normalize';
import type { DeadLetter, SinkCounters, SourceCounters } from './pipeline';
import { eventTimeOf } from './sources';
import { ReplaySource, type ReplayProgress } from './sources/replay';

interface Options {
  mapping?: string;
  source: string;
  speed: number;
  from?: number;
  to?: number;
}

const program = new Command()
  .name('replay')
  .description('Replay a recorded feed (NDJSON, one message per line) through the collector into InfluxDB and Redis.')
  .argument('<file>', 'the recording: contract events, or raw platform messages with --mapping')
  .option('--mapping <name|path>', 'a shipped mapping (bidding-platform, clerk-console) or a mapping file')
  .option('--source <name>', 'source name for the events and the counters', 'replay')
  .option('--speed <N>', '0 = as fast as possible; N = N× the recorded pace', parseSpeed, 0)
  .option('--from <ISO>', 'play only messages at or after this time (RFC 3339 with offset)', parseIso)
  .option('--to <ISO>', 'play only messages before this time', parseIso)
  .showHelpAfterError('(run with --help for usage)')
  // Exit 1 means "the replay lost events"; a usage error must not look like that.
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));
program.parse();
const file = program.args[0] as string;
const options = program.opts<Options>();

function parseSpeed(text: string): number {
  const speed = Number(text);
  if (text.trim() === '' || !(speed >= 0) || !Number.isFinite(speed))
    throw new InvalidArgumentError('must be a number ≥ 0');
  return speed;
}

function parseIso(text: string): number {
  const ms = parseTime(text);
  if (ms === undefined)
    throw new InvalidArgumentError('must be an ISO 8601 time with offset, e.g. 2024-12-05T09:00:00-06:00');
  return ms;
}

try {
  fs.accessSync(file, fs.constants.R_OK);
} catch (error) {
  console.error(`cannot read ${file}: ${(error as Error).message}`);
  process.exit(2);
}

const config = loadConfig();
// Logs go to stderr with the progress bar; stdout gets only the summary.
const log = pino({ name: 'replay', level: config.logLevel }, process.stderr);

let normalizer: Normalizer | undefined;
try {
  normalizer = options.mapping === undefined ? undefined : loadMapping(options.mapping, { source: options.source });
} catch (error) {
  if (!(error instanceof MappingError)) throw error;
  console.error(error.message);
  process.exit(2);
}

const display = progressDisplay(file);
const source = new ReplaySource({
  name: options.source,
  file,
  speed: options.speed,
  from: options.from,
  to: options.to,
  // A raw message's time is only known once mapped; contract events carry their own `ts`.
  timeOf: normalizer && ((message) => eventTimeOf(normalizer, message)),
  onProgress: display.update,
});

// A replay runs beside the live collector: any free port, and its own spool, which the next replay
// of the same source writes back first.
const spool = { ...config.collector.spool, dir: path.join(config.collector.spool.dir, `replay-${options.source}`) };
const collector = await startCollector(
  { ...config, collector: { ...config.collector, port: 0, spool } },
  [{ source, normalizer }],
  log,
);
const started = performance.now();
let stopping: Promise<void> | undefined;
const stop = () => (stopping ??= collector.stop());
process.once('SIGINT', () => void stop());
await collector.finished;
const seconds = (performance.now() - started) / 1000;
display.stop();
await stop();

const stats = collector.pipeline.stats();
console.log(
  summary(file, stats.sources[options.source], stats.sinks, collector.pipeline.deadLetters(), seconds).join('\n'),
);
const undelivered = Object.values(stats.sinks).some((s) => s.refused + s.spoolDropped + s.spoolPendingEvents > 0);
process.exit(undelivered ? 1 : 0);

/** A bar on a terminal; on a pipe or in a log, a plain line every few seconds. */
function progressDisplay(name: string): { update: (progress: ReplayProgress) => void; stop: () => void } {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${name} |{bar}| {percentage}% | {read} of {size} MB | {messages} messages | {duration_formatted}`,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update: ({ bytesRead, totalBytes, messages }) => {
        const payload = { read: mb(bytesRead), size: mb(totalBytes), messages: count(messages) };
        if (!started) bar.start(totalBytes, bytesRead, payload);
        else bar.update(bytesRead, payload);
        started = true;
      },
      stop: () => bar.stop(),
    };
  }
  const EVERY_MS = 5000;
  let last = performance.now();
  let latest: ReplayProgress | undefined;
  const print = ({ bytesRead, totalBytes, messages }: ReplayProgress) => {
    const percent = totalBytes === 0 ? 100 : Math.floor((bytesRead / totalBytes) * 100);
    console.error(`${name}: ${mb(bytesRead)} of ${mb(totalBytes)} MB (${percent} %), ${count(messages)} messages`);
  };
  return {
    update: (progress) => {
      latest = progress;
      if (performance.now() - last < EVERY_MS) return;
      last = performance.now();
      print(progress);
    },
    stop: () => {
      if (latest) print(latest);
    },
  };
}

function summary(
  name: string,
  source: SourceCounters | undefined,
  sinks: Record<string, SinkCounters>,
  dead: readonly DeadLetter[],
  seconds: number,
): string[] {
  const read = source ?? { received: 0, accepted: 0, duplicates: 0, rejected: 0, rejectedBy: {}, gaps: 0 };
  const lines = [
    `replayed ${name}`,
    `  messages read  ${count(read.received)}`,
    `  accepted       ${count(read.accepted)}`,
    `  duplicates     ${count(read.duplicates)}`,
    `  seq gaps       ${count(read.gaps)} messages missing`,
    `  rejected       ${count(read.rejected)}`,
  ];
  const reasons = Object.entries(read.rejectedBy).sort(([, a], [, b]) => b - a);
  for (const [field, n] of reasons) {
    // The counters group by the field at fault; one full reason shows what was wrong with it.
    const example = dead.find((d) => d.reason.startsWith(field))?.reason;
    lines.push(`    ${count(n).padStart(8)}  ${example ?? field}`);
  }
  for (const [sink, c] of Object.entries(sinks)) {
    const lost = `${count(c.refused)} refused, ${count(c.spoolDropped)} dropped from a full spool`;
    lines.push(
      `  ${sink.padEnd(14)} ${count(c.written)} written, ${lost}, ${count(c.spoolPendingEvents)} waiting in spool`,
    );
  }
  const rate = seconds > 0 ? Math.round(read.accepted / seconds) : 0;
  lines.push(`  duration       ${seconds.toFixed(1)} s, ${count(rate)} events/s`);
  return lines;
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

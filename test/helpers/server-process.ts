/**
 * The server (server/main.ts) run as its own process, as in production, so a test can kill it
 * with -9 and start it again. It listens on a port of its own choosing (PORT=0): the port is read
 * from its `server listening` log line, with the stream position it resumed from.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../config';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface ServerProcess {
  port: number;
  /** The stream position the server read on from: its restored checkpoint's, or `0-0`. */
  resumedFrom: string;
  /** Every log line so far, for a failing test's message. */
  log: string[];
  /** Sends `signal` and resolves once the process has exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** Starts a server process on `config`'s stores and settings; resolves once it listens. */
export async function startServerProcess(config: Config, timeoutMs = 30_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      INFLUX_URL: config.influx.url,
      INFLUX_DB: config.influx.database,
      REDIS_URL: config.redis.url,
      REDIS_STREAM: config.redis.stream,
      PORT: '0',
      STALE_AFTER_SEC: String(config.server.staleAfterSec),
      LATE_EVENT_SEC: String(config.server.lateEventSec),
      CHECKPOINT_EVERY_SEC: String(config.server.checkpointEverySec),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const log: string[] = [];
  // Read to the end, whatever comes: a full pipe would block the server.
  createInterface({ input: child.stderr }).on('line', (line) => log.push(line));
  const listening = new Promise<{ port: number; resumedFrom: string }>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the server did not listen within ${timeoutMs} ms:\n${log.join('\n')}`)),
      timeoutMs,
    );
    createInterface({ input: child.stdout }).on('line', (line) => {
      log.push(line);
      const entry = parseLine(line);
      if (entry?.msg !== 'server listening') return;
      clearTimeout(timer);
      resolve({ port: Number(entry.port), resumedFrom: String(entry.resumedFrom) });
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the server exited before listening:\n${log.join('\n')}`));
    });
  });
  const kill = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  try {
    return { ...(await listening), log, kill };
  } catch (error) {
    await kill('SIGKILL');
    throw error;
  }
}

function parseLine(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * Brings up the InfluxDB 1.x and Redis that the demo and the tests run against: Debian's real
 * servers, never mocks. A server that already answers at the configured URL is reused and left
 * alone; otherwise its binary is found (or installed with apt-get when root), started in the
 * foreground on loopback with its data under `.lanewatch/`, and stopped again by `stop()`.
 *
 * Also a CLI: `tsx scripts/services.ts` keeps them up until Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '../config';

export type ServiceName = 'influxdb' | 'redis';

export interface RunningServices {
  influxUrl: string;
  redisUrl: string;
  /** The servers this call started; only these are stopped by `stop()`. */
  started: ServiceName[];
  /** Stops what this call started (SIGTERM, then SIGKILL after 10 s). Safe to call more than once. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Holds `influxdb/` and `redis/` (data, generated config, logs). Default `<repo>/.lanewatch`. */
  dataDir?: string;
  /** Progress lines: reuse, install, start, stop. Default: stdout. */
  log?: (line: string) => void;
}

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const PROBE_TIMEOUT_MS = 1_000;

interface Service {
  name: ServiceName;
  title: string;
  /** The env var that names the URL, for error messages. */
  setting: string;
  url: string;
  binary: string;
  debianPackage: string;
  answers(): Promise<boolean>;
  /** Writes whatever the server needs into `dir` and returns its arguments. */
  prepare(dir: string, host: string, port: number): string[];
}

function influxdb(url: string): Service {
  return {
    name: 'influxdb',
    title: 'InfluxDB',
    setting: 'INFLUX_URL',
    url,
    binary: 'influxd',
    debianPackage: 'influxdb',
    async answers() {
      try {
        const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
        await res.body?.cancel();
        return res.status === 204;
      } catch {
        return false;
      }
    },
    prepare(dir, host, port) {
      if (port + 2 > 65535) throw new Error(`INFLUX_URL port ${port} leaves no room for the RPC port (port + 2)`);
      const file = path.join(dir, 'influxdb.conf');
      fs.writeFileSync(file, influxdbConf(dir, host, port));
      return ['run', '-config', file];
    },
  };
}

// Debian's build defaults HTTP to ":8086" (every interface), so every listener is pinned here.
// Upstream names the phone-home switch `reporting-disabled`; Debian's build renamed it
// `reporting-enabled`. Unknown keys are ignored, so both are set.
function influxdbConf(dir: string, host: string, port: number): string {
  const q = (s: string) => JSON.stringify(s);
  return `# Written by scripts/services.ts on every start; edits are overwritten.
reporting-disabled = true
reporting-enabled = false
bind-address = ${q(hostPort(host, port + 2))}

[meta]
  dir = ${q(path.join(dir, 'meta'))}
  logging-enabled = false

[data]
  dir = ${q(path.join(dir, 'data'))}
  wal-dir = ${q(path.join(dir, 'wal'))}
  query-log-enabled = false

[monitor]
  store-enabled = false

[http]
  bind-address = ${q(hostPort(host, port))}
  log-enabled = false

[logging]
  level = "warn"
  suppress-logo = true
`;
}

function redis(url: string): Service {
  return {
    name: 'redis',
    title: 'Redis',
    setting: 'REDIS_URL',
    url,
    binary: 'redis-server',
    debianPackage: 'redis-server',
    async answers() {
      const client = new Redis(url, {
        lazyConnect: true,
        connectTimeout: PROBE_TIMEOUT_MS,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        retryStrategy: () => null,
      });
      // A refused connection is the expected "no" here; it also rejects connect() below.
      client.on('error', () => {});
      try {
        await client.connect();
        return (await client.ping()) === 'PONG';
      } catch {
        return false;
      } finally {
        client.disconnect();
      }
    },
    prepare(dir, host, port) {
      const { username, password, protocol } = new URL(url);
      if (protocol !== 'redis:' || username || password) {
        throw new Error(`REDIS_URL=${url} asks for TLS or credentials; only a plain local Redis is started here`);
      }
      // --save '' with AOF: one durable log and no fork-heavy snapshots during a demo.
      return [
        ...['--bind', host, '--port', String(port), '--dir', dir],
        ...['--appendonly', 'yes', '--save', '', '--protected-mode', 'yes', '--daemonize', 'no'],
      ];
    },
  };
}

export async function startServices(config: Config, options: StartOptions = {}): Promise<RunningServices> {
  const log = options.log ?? ((line: string) => console.log(line));
  const dataDir = options.dataDir ?? path.join(REPO_ROOT, '.lanewatch');
  const services = [influxdb(config.influx.url), redis(config.redis.url)];

  const answering = await Promise.all(services.map((s) => s.answers()));
  const missing = services.filter((s, i) => {
    if (answering[i]) log(`${s.title}: reusing the server at ${s.url}`);
    return !answering[i];
  });

  // One at a time: two apt-get runs would fight over the dpkg lock.
  const binaries: string[] = [];
  for (const service of missing) binaries.push(await ensureBinary(service, log));

  const outcomes = await Promise.allSettled(
    missing.map((service, i) => launch(service, binaries[i]!, path.join(dataDir, service.name), log)),
  );
  const children = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  const failures = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
  if (failures.length > 0) {
    await Promise.all(children.map((c) => terminate(c.child)));
    throw failures.length === 1 ? failures[0] : new AggregateError(failures, 'Could not start the services');
  }

  let stopping: Promise<void> | undefined;
  return {
    influxUrl: config.influx.url,
    redisUrl: config.redis.url,
    started: children.map((c) => c.service.name),
    stop() {
      stopping ??= Promise.all(
        children.map(async ({ service, child }) => {
          await terminate(child);
          log(`${service.title}: stopped`);
        }),
      ).then(() => undefined);
      return stopping;
    },
  };
}

async function launch(
  service: Service,
  binary: string,
  dir: string,
  log: (line: string) => void,
): Promise<{ service: Service; child: ChildProcess }> {
  const { hostname, port } = new URL(service.url);
  const host = loopbackAddress(hostname);
  if (host === undefined) {
    throw new Error(
      `Nothing answers at ${service.setting}=${service.url}, and it is not a loopback address, so it cannot be ` +
        `started here. Start ${service.title} there, or point ${service.setting} at 127.0.0.1.`,
    );
  }
  fs.mkdirSync(dir, { recursive: true });
  const args = service.prepare(dir, host, Number(port || defaultPort(service.url)));
  const logPath = path.join(dir, `${service.binary}.log`);
  const out = fs.openSync(logPath, 'w');
  let child: ChildProcess;
  try {
    const [command, ...rest] = [...dieWithParent(), binary, ...args];
    // Own process group: a terminal's Ctrl-C reaches only the caller, which decides when to stop
    // (say, after flushing its last writes to InfluxDB).
    child = spawn(command!, rest, { cwd: dir, detached: true, stdio: ['ignore', out, out] });
  } finally {
    fs.closeSync(out);
  }
  child.on('error', (err) => log(`${service.title}: ${err.message}`));
  guard(child);
  log(`${service.title}: starting ${service.binary} (pid ${child.pid}) at ${service.url}, data in ${dir}`);

  try {
    await waitUntilAnswering(service, child, logPath);
  } catch (err) {
    await terminate(child);
    throw err;
  }
  child.once('exit', (code, signal) => {
    if (!stopRequested.has(child)) {
      log(`${service.title}: ${service.binary} exited unexpectedly (${signal ?? `code ${code}`}); see ${logPath}`);
    }
  });
  log(`${service.title}: ready`);
  return { service, child };
}

async function waitUntilAnswering(service: Service, child: ChildProcess, logPath: string): Promise<void> {
  let exited: string | undefined;
  const onExit = (code: number | null, signal: string | null) => {
    exited = signal ? `was killed by ${signal}` : `exited with code ${code}`;
  };
  const onError = (err: Error) => {
    exited = `could not be run (${err.message})`;
  };
  child.once('exit', onExit).once('error', onError);
  const deadline = Date.now() + START_TIMEOUT_MS;
  try {
    while (exited === undefined) {
      // A child that died while something else answered (a port clash) must not count as ready.
      if ((await service.answers()) && exited === undefined) return;
      if (Date.now() > deadline) {
        throw new Error(
          `${service.title} did not answer at ${service.url} within ${START_TIMEOUT_MS / 1000} s. ` +
            `Last lines of ${logPath}:\n${tail(logPath)}`,
        );
      }
      await sleep(200);
    }
    throw new Error(
      `${service.binary} ${exited} before answering at ${service.url}. Last lines of ${logPath}:\n${tail(logPath)}`,
    );
  } finally {
    child.off('exit', onExit).off('error', onError);
  }
}

async function ensureBinary(service: Service, log: (line: string) => void): Promise<string> {
  const found = findExecutable(service.binary);
  if (found) return found;
  const pkg = service.debianPackage;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `Nothing answers at ${service.setting}=${service.url} and ${service.binary} is not installed. ` +
        `Install Debian's package (sudo apt-get install -y ${pkg}), or point ${service.setting} at a running ${service.title}.`,
    );
  }
  log(`${service.title}: ${service.binary} not found; installing ${pkg} with apt-get`);
  let result = await run('apt-get', ['install', '-y', pkg]);
  if (result.code !== 0) {
    // Fresh containers ship without package lists.
    log(`${service.title}: apt-get install failed; running apt-get update and trying again`);
    await run('apt-get', ['update']);
    result = await run('apt-get', ['install', '-y', pkg]);
  }
  const installed = findExecutable(service.binary);
  if (result.code !== 0 || !installed) {
    throw new Error(`apt-get install -y ${pkg} did not provide ${service.binary}:\n${lastLines(result.output)}`);
  }
  return installed;
}

function run(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

function findExecutable(name: string): string | undefined {
  // sbin is often missing from a non-login PATH.
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs.filter(Boolean)) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

// The kernel sends SIGTERM to the server when this process dies, even by SIGKILL, so a killed
// run leaves no orphan holding the port. util-linux's setpriv is on every Debian; without it
// the exit and signal handlers below still cover every death except SIGKILL.
const setpriv = findExecutable('setpriv');
function dieWithParent(): string[] {
  return setpriv ? [setpriv, '--pdeathsig', 'SIGTERM', '--'] : [];
}

function loopbackAddress(hostname: string): string | undefined {
  if (hostname === 'localhost') return '127.0.0.1';
  if (hostname === '[::1]') return '::1';
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname) ? hostname : undefined;
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function defaultPort(url: string): number {
  const { protocol } = new URL(url);
  return protocol === 'https:' ? 443 : protocol.startsWith('redis') ? 6379 : 80;
}

function tail(file: string): string {
  try {
    return lastLines(fs.readFileSync(file, 'utf8')) || '(empty)';
  } catch (err) {
    return `(unreadable: ${(err as Error).message})`;
  }
}

function lastLines(text: string, count = 20): string {
  return text.trimEnd().split('\n').slice(-count).join('\n');
}

const stopRequested = new WeakSet<ChildProcess>();

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  stopRequested.add(child);
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const first = await Promise.race([exited, sleep(STOP_TIMEOUT_MS, 'timeout' as const, { ref: false })]);
  if (first === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
}

// Children still running when this process ends without stop() (process.exit, an uncaught
// error, a signal nobody handles) get SIGTERM. A signal the caller listens for is the
// caller's business: it will call stop() when it is ready.
const live = new Set<ChildProcess>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function guard(child: ChildProcess): void {
  if (live.size === 0) {
    process.on('exit', killLive);
    for (const signal of SIGNALS) process.on(signal, onSignal);
  }
  live.add(child);
  child.once('exit', () => {
    live.delete(child);
    if (live.size === 0) {
      process.off('exit', killLive);
      for (const signal of SIGNALS) process.off(signal, onSignal);
    }
  });
}

function killLive(): void {
  for (const child of live) child.kill('SIGTERM');
}

function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return;
  killLive();
  // With no listener left, Node restores the default action, so re-raising ends the process
  // exactly as it would have ended without us.
  process.off(signal, onSignal);
  process.kill(process.pid, signal);
}

async function main(): Promise<void> {
  const services = await startServices(loadConfig());
  console.log(`InfluxDB  ${services.influxUrl}\nRedis     ${services.redisUrl}`);
  if (services.started.length === 0) {
    console.log('Both were already running; nothing to keep up.');
    return;
  }
  console.log('Press Ctrl-C to stop.');
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    services.stop().catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
  };
  for (const signal of SIGNALS) process.on(signal, shutdown);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}

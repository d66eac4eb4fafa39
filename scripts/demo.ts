/**
 * `npm run demo`: the whole system on the built-in simulator. Starts (or reuses) InfluxDB and
 * Redis, makes sure there is an admin to log in as and a viewer token for the wall display (kept
 * in `.lanewatch/demo-access.json`, so a second run shows the same), then the server and the
 * collector as child processes with their logs under `.lanewatch/logs/`, prints the wall
 * display's kiosk URL and the login once lanes are live, and on Ctrl-C stops everything it started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config';
import { AccessStore } from '../server/access/store';
import type { SaleInfo } from '../server/wire';
import { connectRedis } from '../storage/redis';
import { startServices } from './services';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LOGS = path.join(ROOT, '.lanewatch', 'logs');
const DEMO_ACCESS = path.join(ROOT, '.lanewatch', 'demo-access.json');
const READY_TIMEOUT_MS = 60_000;

const say = (line: string) => console.log(`[demo] ${line}`);
const config = loadConfig();
// The simulated sale opens when the collector starts (to the second), unless configured.
const saleOpensAfter = config.simulator.start ?? Date.now() - 1000;
const services = await startServices(config, { log: say });
fs.mkdirSync(LOGS, { recursive: true });
const access = await demoAccess(services.redisUrl);

const children: { name: string; process: ChildProcess; log: string }[] = [];
let stopping = false;

function launch(name: string, entry: string): void {
  const log = path.join(LOGS, `${name}.log`);
  const out = fs.openSync(log, 'w');
  // Own process group: Ctrl-C reaches the demo only, which then stops the children in order.
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: ROOT,
    env: { ...process.env, INFLUX_URL: services.influxUrl, REDIS_URL: services.redisUrl },
    stdio: ['ignore', out, out],
    detached: true,
  });
  children.push({ name, process: child, log });
  child.on('exit', (code, signal) => {
    if (stopping) return;
    say(`${name} exited unexpectedly (${signal ?? `code ${code}`}); last lines of ${log}:`);
    console.log(tail(log));
    void shutdown(1);
  });
}

async function shutdown(exitCode: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  say('stopping…');
  await Promise.all(
    children.map(async ({ process: child }) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const exited = new Promise((resolve) => child.once('exit', resolve));
      if ((await Promise.race([exited, sleep(10_000, 'timeout')])) === 'timeout') child.kill('SIGKILL');
    }),
  );
  await services.stop();
  say('stopped');
  process.exit(exitCode);
}

process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

launch('server', 'server/main.ts');
launch('collector', 'collector/main.ts');

const url = `http://localhost:${config.server.port}`;
const sale = await waitForLiveSale(`http://127.0.0.1:${config.server.port}`);
if (sale) {
  say(`${sale.name}: ${sale.lanes} lanes live (sale ${sale.sale}, simulated at ${config.simulator.speed}×)`);
  say(`wall display (kiosk, viewer token): ${url}/?kiosk&token=${access.kioskToken}`);
  say(`log in at ${url} or on a phone at ${url}/m as ${access.admin.name} / ${access.admin.password}`);
  say(`logs: ${path.relative(ROOT, LOGS)}/ — press Ctrl-C to stop everything`);
} else if (!stopping) {
  say(`no live sale at ${url} after ${READY_TIMEOUT_MS / 1000} s; see ${path.relative(ROOT, LOGS)}/`);
  await shutdown(1);
}

async function waitForLiveSale(base: string): Promise<SaleInfo | undefined> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline && !stopping) {
    try {
      const response = await fetch(`${base}/api/sales`, { headers: { authorization: `Bearer ${access.kioskToken}` } });
      const sales = (await response.json()) as SaleInfo[];
      // Redis keeps earlier demos' sales; the one to show is this run's.
      const open = sales.find(
        (s) => s.state === 'open' && s.lanes >= config.simulator.lanes && s.openedAt >= saleOpensAfter,
      );
      if (open) return open;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  return undefined;
}

interface DemoAccess {
  admin: { name: string; password: string };
  kioskToken: string;
}

/**
 * The demo's admin login and wall display token: made on the first run, reused after (unless the
 * token was revoked or the admin removed, when new ones are made).
 */
async function demoAccess(redisUrl: string): Promise<DemoAccess> {
  const redis = connectRedis(redisUrl, 'lanewatch-demo');
  const store = new AccessStore(redis, config.redis.stream, config.access.sessionTtlSec);
  try {
    const saved = fs.existsSync(DEMO_ACCESS)
      ? (JSON.parse(fs.readFileSync(DEMO_ACCESS, 'utf8')) as DemoAccess)
      : undefined;
    const admin =
      saved && (await store.users()).some((user) => user.name === saved.admin.name) ? saved.admin : undefined;
    const kioskToken = saved && (await store.tokenPrincipal(saved.kioskToken)) ? saved.kioskToken : undefined;
    const access: DemoAccess = {
      admin: admin ?? { name: 'admin', password: randomBytes(9).toString('base64url') },
      kioskToken: kioskToken ?? (await store.createToken('demo wall display', 'viewer', 'demo')).token,
    };
    if (!admin) await store.saveUser(access.admin.name, 'admin', access.admin.password);
    fs.writeFileSync(DEMO_ACCESS, JSON.stringify(access, null, 2), { mode: 0o600 });
    return access;
  } finally {
    await redis.quit();
  }
}

function tail(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * `npm run bench:alerts` — the alert rules against the simulator's labelled incidents, on one core,
 * no I/O.
 *
 * Twenty simulated sales of one site (8 lanes, 240 min, a week apart) and one more with its
 * incidents switched off are replayed through the pure metrics engine and the alert evaluator in
 * 1 s steps of event time. Each sale's seasonal prior is built from the OTHER sales, as a site's
 * previous sales would give it. In the same run, on the same samples: the evaluator without a
 * prior, and a naive rule (online ≤ 75 % of its 10-min rolling max, no hold, no hysteresis).
 *
 * Scored: recall (each incident paged by the right rule while it lasts, or within GRACE after its
 * effect ends), detection delay, and false pages per sale-hour — pages (episodes that reached
 * `firing`) of the incident rules that overlap no related incident's window + GRACE. The end-of-
 * sale fade is not an incident to page: lane or sale declines in it count as false, and are also
 * shown apart. The planted stories with no label (the slow clerk, missed bids, …) are not scored.
 */
import os from 'node:os';
import type { Incident, SimulatedSale } from '../collector/sources/simulator';
import { simulateSale } from '../collector/sources/simulator';
import { expectedOnline } from '../collector/sources/simulator/audience';
import { planSale, type SaleOptions } from '../collector/sources/simulator/plan';
import { advance, createEngine, ingest } from '../server/metrics/engine';
import { median } from '../server/metrics/windows';
import { DEFAULT_ALERT_CONFIG } from '../alerts/config';
import { createAlertsState, evaluateSale, type AlertsState } from '../alerts/evaluator';
import { isDecline } from '../alerts/rules/decline';
import { saleSample, type Reading, type SaleSample } from '../alerts/samples';
import { seasonalPriorFrom, type PastLaneAttendance, type SeasonalPrior } from '../alerts/seasonal';
import type { AlertRule, AlertScope, AlertTransition } from '../alerts/types';

const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1);
const CONTROL_SEED = 21;
const LANES = 8;
const DURATION_MIN = 240;
const MIN = 60_000;
const WEEK = 7 * 24 * 60 * MIN;
const FIRST_SALE = Date.UTC(2026, 0, 6, 14, 0);
/** After an incident's effect ends, a page that comes (or lasts) this long still belongs to it. */
const GRACE_MS = 5 * MIN;
/** The simulator's lagging-stream bidders come back over 3 min after the lag ends (incidents.ts). */
const LAG_RECOVERY_MS = 3 * MIN;
const NAIVE_DROP = 0.25;
const NAIVE_WINDOW_MS = 10 * MIN;
const SCORED: readonly AlertRule[] = ['attendance.decline', 'feed.stale', 'lane.stalled', 'stream.lagging'];
const config = DEFAULT_ALERT_CONFIG;
/** Which incidents may explain a page of each rule (the fade explains none). */
const RELATED: Partial<Record<AlertRule, readonly Incident['kind'][]>> = {
  'attendance.decline': ['attendance.collapse', 'stream.lag'],
  'feed.stale': ['source.silent'],
  'lane.stalled': ['lane.stall', 'source.silent'],
  'stream.lagging': ['stream.lag'],
};

interface Page {
  rule: AlertRule;
  scope: AlertScope;
  lane?: string;
  source?: string;
  at: number;
  until: number;
}

interface SaleRun {
  sale: SimulatedSale;
  laneSources: Map<string, string>;
  /** Collapse: when the scripted drop reaches the decline threshold (−25 %) on its expected level. */
  collapseOnset: number | null;
  pages: Record<Detector, Page[]>;
  unscored: Record<string, number>;
  flapping: number;
  /** Every transition the evaluator made (what the wall display receives), and those into `pending`. */
  transitions: number;
  pending: number;
}

type Detector = 'evaluator' | 'withoutPrior' | 'naive';
const DETECTORS: readonly Detector[] = ['evaluator', 'withoutPrior', 'naive'];

const started = performance.now();
const options = (seed: number, incidents = true): SaleOptions => ({
  seed,
  lanes: LANES,
  durationMin: DURATION_MIN,
  speed: 0,
  auction: 'dallas',
  start: FIRST_SALE + (seed - 1) * WEEK,
  incidents,
});
const history = new Map(SEEDS.map((seed) => [seed, pastAttendance(simulateSale(options(seed)))]));
const priorWithout = (excluded: number): SeasonalPrior =>
  seasonalPriorFrom([...history].filter(([seed]) => seed !== excluded).flatMap(([, lanes]) => lanes));
const runs = SEEDS.map((seed) => replay(options(seed), priorWithout(seed)));
const control = replay(options(CONTROL_SEED, false), priorWithout(CONTROL_SEED));
const seconds = (performance.now() - started) / 1000;

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(
  `\nalerts benchmark — ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} × ${cpu}, Node ${process.version}`,
);
console.log(
  `  ${SEEDS.length} sales × ${LANES} lanes × ${DURATION_MIN} min + 1 without incidents, 1 s steps; ` +
    `prior from the other ${SEEDS.length - 1} sales; grace ${GRACE_MS / MIN} min after an incident's effect; ${seconds.toFixed(0)} s`,
);
const saleHours = (SEEDS.length * DURATION_MIN) / 60;
for (const detector of DETECTORS) report(detector);
console.log(`\n  not scored (planted without labels), pages per sale-hour with the evaluator:`);
const unscored: Record<string, number> = {};
for (const run of runs)
  for (const [rule, n] of Object.entries(run.unscored)) unscored[rule] = (unscored[rule] ?? 0) + n;
console.log(
  `    ${Object.entries(unscored)
    .map(([rule, n]) => `${rule} ${(n / saleHours).toFixed(2)}`)
    .join(', ')}; flapping spells (wall only) ${(runs.reduce((n, run) => n + run.flapping, 0) / saleHours).toFixed(2)}`,
);
const perHour = (count: (run: SaleRun) => number) =>
  (runs.reduce((n, run) => n + count(run), 0) / saleHours).toFixed(0);
console.log(
  `  transitions to the wall per sale-hour (8 lanes): ${perHour((run) => run.transitions)}, ` +
    `of which into pending ${perHour((run) => run.pending)}`,
);

function report(detector: Detector): void {
  const title = {
    evaluator: 'evaluator (seasonal prior)',
    withoutPrior: 'evaluator without the seasonal prior',
    naive: 'naive: online ≤ 75 % of its 10-min max, no hold, no hysteresis (attendance only)',
  }[detector];
  console.log(`\n  ${title}`);
  // The first line of each kind scores it (recall, overall delay); the others show its parts.
  const lines: [Incident['kind'], readonly AlertRule[], string][] = [
    [
      'attendance.collapse',
      ['attendance.decline'],
      `target ≤ hold ${config['attendance.decline'].lane.holdSec} s + 10 s from onset`,
    ],
    ['stream.lag', ['stream.lagging', 'attendance.decline'], 'the lag, or the attendance it costs'],
    ['stream.lag', ['stream.lagging'], `target ≤ hold ${config['stream.lagging'].holdSec} s + 10 s`],
    ['stream.lag', ['attendance.decline'], 'its bleed: −20 % over 10 min, CUSUM'],
    [
      'lane.stall',
      ['lane.stalled'],
      `target ≤ limit max(${config['lane.stalled'].minIdleSec} s, 2 × median run) + 10 s`,
    ],
    ['source.silent', ['feed.stale'], `target ≤ limit ${config['feed.stale'].minSec} s + 10 s`],
  ];
  const scored = { detected: 0, total: 0, delays: [] as number[] };
  for (const [kind, rules, target] of lines) {
    // The naive rule watches attendance only: it is scored on what it can see.
    if (detector === 'naive' && (rules.length > 1 || rules[0] !== 'attendance.decline')) continue;
    const delays: number[] = [];
    const onsetDelays: number[] = [];
    let total = 0;
    for (const run of runs) {
      for (const incident of run.sale.incidents.filter((i) => i.kind === kind)) {
        total++;
        const page = run.pages[detector]
          .filter((p) => rules.includes(p.rule) && pertains(p, incident, run) && overlaps(p, incidentWindow(incident)))
          .sort((a, b) => a.at - b.at)[0];
        if (!page) continue;
        delays.push(Math.max(0, page.at - incident.from));
        if (kind === 'attendance.collapse' && run.collapseOnset !== null) onsetDelays.push(page.at - run.collapseOnset);
      }
    }
    if (lines.find(([k]) => k === kind)?.[1] === rules || detector === 'naive') {
      scored.detected += delays.length;
      scored.total += total;
      scored.delays.push(...delays);
    }
    const onset =
      onsetDelays.length > 0 ? `; from onset median ${s(median(onsetDelays))}, max ${s(Math.max(...onsetDelays))}` : '';
    console.log(
      `    ${`${kind} → ${rules.join(' or ')}`.padEnd(56)} ${delays.length}/${total}  ` +
        `delay median ${s(median(delays))}, max ${s(delays.length ? Math.max(...delays) : null)}${onset}  (${target})`,
    );
  }
  console.log(
    `    recall ${scored.detected}/${scored.total} (${pct(scored.detected, scored.total)}); delay over them median ` +
      `${s(median(scored.delays))}, max ${s(scored.delays.length ? Math.max(...scored.delays) : null)}`,
  );
  const falsePages = runs.flatMap((run) => run.pages[detector].filter((page) => isFalse(page, run)));
  const fadePages = runs.flatMap((run) =>
    run.pages[detector].filter((page) => page.rule === 'attendance.decline' && isFalse(page, run) && inFade(page, run)),
  );
  const byRule = countBy(falsePages, (page) => `${page.rule}${page.scope === 'lane' ? '' : ` (${page.scope})`}`);
  console.log(
    `    false pages: ${(falsePages.length / saleHours).toFixed(3)} per sale-hour (${falsePages.length} in ${saleHours} sale-hours` +
      `${
        falsePages.length
          ? `: ${Object.entries(byRule)
              .map(([rule, n]) => `${rule} ${n}`)
              .join(', ')}`
          : ''
      })  (target ≤ 0.1)`,
  );
  console.log(`    of which declines in the end-of-sale fade: ${fadePages.length}`);
  const controlFalse = control.pages[detector].filter((page) => isFalse(page, control));
  console.log(`    sale without incidents: ${controlFalse.length} pages in ${DURATION_MIN / 60} h`);
}

/** Replays one sale second by second through the engine and every detector. */
function replay(saleOptions: SaleOptions, prior: SeasonalPrior): SaleRun {
  const sale = simulateSale(saleOptions);
  const engine = createEngine();
  const states: Record<'evaluator' | 'withoutPrior', AlertsState> = {
    evaluator: createAlertsState(),
    withoutPrior: createAlertsState(),
  };
  const run: SaleRun = {
    sale,
    laneSources: new Map(),
    collapseOnset: collapseOnset(saleOptions, sale),
    pages: { evaluator: [], withoutPrior: [], naive: [] },
    unscored: {},
    flapping: 0,
    transitions: 0,
    pending: 0,
  };
  const open = { evaluator: new Map<string, Page>(), withoutPrior: new Map<string, Page>() };
  const naive = new Map<string, NaiveLane>();
  const events = sale.events();
  let next = events.next();
  for (let now = sale.start; now <= sale.end + 5000; now += 1000) {
    for (; !next.done && next.value.ts <= now; next = events.next()) ingest(engine, next.value);
    advance(engine, () => now);
    const state = engine.sales.get(sale.sale);
    if (!state) continue;
    const sample = saleSample(state, now, config);
    for (const lane of sample.lanes) if (lane.source !== null) run.laneSources.set(lane.lane, lane.source);
    collect(run, 'evaluator', open.evaluator, evaluateSale(states.evaluator, sample, now, { config, prior }), now);
    collect(run, 'withoutPrior', open.withoutPrior, evaluateSale(states.withoutPrior, sample, now, { config }), now);
    naiveRule(run, naive, sample, now);
  }
  for (const detector of ['evaluator', 'withoutPrior'] as const) {
    for (const page of open[detector].values()) page.until = sale.end;
  }
  for (const lane of naive.values()) if (lane.page) lane.page.until = sale.end;
  return run;
}

/** Pages from transitions: an episode's first `firing` opens one, its `resolved` closes it. */
function collect(
  run: SaleRun,
  detector: Detector,
  open: Map<string, Page>,
  transitions: AlertTransition[],
  now: number,
): void {
  for (const { alert, to, at } of transitions) {
    if (detector === 'evaluator') {
      run.transitions++;
      if (to === 'pending') run.pending++;
      if (to === 'flapping') run.flapping++;
    }
    if (to === 'firing' && alert.firedAt === at) {
      if (!SCORED.includes(alert.rule)) {
        if (detector === 'evaluator') run.unscored[alert.rule] = (run.unscored[alert.rule] ?? 0) + 1;
        continue;
      }
      const page: Page = { rule: alert.rule, scope: alert.scope, at, until: now };
      if (alert.lane !== undefined) page.lane = alert.lane;
      if (alert.source !== undefined) page.source = alert.source;
      open.set(alert.key, page);
      run.pages[detector].push(page);
    } else if (to === 'resolved') {
      const page = open.get(alert.key);
      if (page) page.until = at;
      open.delete(alert.key);
    }
  }
}

interface NaiveLane {
  /** Samples of the last 10 min, oldest first. */
  window: Reading[];
  lastAt: number;
  page: Page | null;
}

function naiveRule(run: SaleRun, lanes: Map<string, NaiveLane>, sample: SaleSample, now: number): void {
  for (const lane of sample.lanes) {
    let naive = lanes.get(lane.lane);
    if (!naive) lanes.set(lane.lane, (naive = { window: [], lastAt: -Infinity, page: null }));
    for (const reading of lane.readings) {
      if (reading.ts <= naive.lastAt) continue;
      naive.lastAt = reading.ts;
      naive.window.push(reading);
      while ((naive.window[0] as Reading).ts < reading.ts - NAIVE_WINDOW_MS) naive.window.shift();
      const max = Math.max(...naive.window.map((r) => r.online));
      const low = lane.open && reading.online <= (1 - NAIVE_DROP) * max;
      if (low && !naive.page) {
        naive.page = { rule: 'attendance.decline', scope: 'lane', lane: lane.lane, at: now, until: now };
        run.pages.naive.push(naive.page);
      } else if (!low && naive.page) {
        naive.page.until = now;
        naive.page = null;
      }
    }
  }
}

/** Per lane, the mean online bidders of each minute after it opened: what a site's history holds. */
function pastAttendance(sale: SimulatedSale): PastLaneAttendance[] {
  const lanes = new Map<string, { openedAt: number; sums: number[]; counts: number[] }>();
  for (const event of sale.events()) {
    if (event.type === 'lane.opened') lanes.set(event.lane, { openedAt: event.ts, sums: [], counts: [] });
    if (event.type !== 'attendance') continue;
    const lane = lanes.get(event.lane);
    if (!lane) continue;
    const minute = Math.floor((event.ts - lane.openedAt) / MIN);
    lane.sums[minute] = (lane.sums[minute] ?? 0) + event.online;
    lane.counts[minute] = (lane.counts[minute] ?? 0) + 1;
  }
  return [...lanes].map(([lane, { sums, counts }]) => ({
    auction: sale.auction,
    lane,
    perMinute: Array.from(sums, (sum, i) => (sum === undefined ? null : sum / (counts[i] as number))),
  }));
}

/**
 * When the collapsing lane's expected (noise-free) level first meets the decline condition against
 * where it was as the incident began — the earliest moment a detector could know.
 */
function collapseOnset(saleOptions: SaleOptions, sale: SimulatedSale): number | null {
  const collapse = sale.incidents.find((i) => i.kind === 'attendance.collapse');
  if (!collapse) return null;
  const plan = planSale(saleOptions);
  const lane = plan.lanes.find((l) => l.id === collapse.lane);
  if (!lane) return null;
  const before = expectedOnline(plan, lane, collapse.from - 1);
  for (let ts = collapse.from; ts < collapse.to; ts += 1000) {
    if (isDecline(before, expectedOnline(plan, lane, ts), config['attendance.decline'].lane)) return ts;
  }
  return null;
}

/** An incident's window: its label, plus the lag's recovery tail, plus the grace. */
function incidentWindow(incident: Incident): [number, number] {
  const tail = incident.kind === 'stream.lag' ? LAG_RECOVERY_MS : 0;
  return [incident.from, incident.to + tail + (incident.kind === 'sale.fade' ? 0 : GRACE_MS)];
}

/** Whether a page is about the incident's lane or connection. */
function pertains(page: Page, incident: Incident, run: SaleRun): boolean {
  if (incident.source !== undefined) {
    return (
      page.source === incident.source || (page.lane !== undefined && run.laneSources.get(page.lane) === incident.source)
    );
  }
  return incident.lane !== undefined && page.lane === incident.lane;
}

function isFalse(page: Page, run: SaleRun): boolean {
  if (page.scope === 'sale') return true;
  return !run.sale.incidents.some(
    (incident) =>
      RELATED[page.rule]?.includes(incident.kind) &&
      pertains(page, incident, run) &&
      overlaps(page, incidentWindow(incident)),
  );
}

function inFade(page: Page, run: SaleRun): boolean {
  return run.sale.incidents.some((i) => i.kind === 'sale.fade' && page.at >= i.from && page.at <= i.to);
}

function overlaps(page: Page, [from, to]: [number, number]): boolean {
  return page.at <= to && page.until >= from;
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

function s(ms: number | null): string {
  return ms === null ? '—' : `${Math.round(ms / 1000)} s`;
}

function pct(n: number, total: number): string {
  return total === 0 ? '—' : `${Math.round((n / total) * 100)} %`;
}

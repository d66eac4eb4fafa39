/**
 * One sale's wall, kept live over the socket.io `/live` namespace (../../../shared/API.md, `wall`
 * view): the server sends each lane's tile and chart changes and the header's, at most once a
 * second each; they are applied in paced screen updates (./frame-queue). The screen keeps its
 * last figures and charts through any disconnect, ages them on its own clock, and after a
 * reconnect fills its charts' gap from the history API before it applies live changes again.
 */
import type {
  LaneDelta,
  LaneTile,
  SalesBoard,
  SaleTotals,
  TickerEntry,
  WallDelta,
  WatchReply,
} from '../../../server/wire';
import { fetchAttendance } from './api';
import { ChartData } from './chart-data';
import { openLiveSocket, type LiveSocket } from './connection';
import { FrameQueue, SCREEN_UPDATE_MARK } from './frame-queue';
import { HEARTBEAT_TIMEOUT_MS, SaleClock, stalenessOf, type Staleness } from './staleness';

/**
 * `connected`: heartbeats arrive. `reconnecting`: the socket is down and socket.io is retrying.
 * `disconnected`: no heartbeat for 15 s, or socket.io gave up — the figures on screen are old.
 */
export type ConnectionState = 'connected' | 'reconnecting' | 'disconnected';

/** A `watch` without an answer by then is sent again: the server may have missed it mid-restart. */
const WATCH_TIMEOUT_MS = 5_000;
/** A backfill slower than this is given up on: live figures matter more than the gap. */
const BACKFILL_TIMEOUT_MS = 5_000;
/** How often the screen re-ages its figures and checks the heartbeat. */
const AGE_EVERY_MS = 1_000;
/**
 * Each screen update aims under 20 ms, so that one stretched by a busy machine (another process
 * taking the core for a while) still stays under the 50 ms that makes a task long. Not less:
 * every update has a fixed price (about 3 ms at 48 lanes), and at 16 ms the wall made so many
 * small updates that it spent more of the main thread on them, and had longer ones, not shorter.
 * On the PC this was measured on, 48 lanes changing every second go in about five updates a
 * second of nine changes (a lane, the header, the totals); fewer changes wait for each other, at
 * most a quarter of a second. An alert still shows well inside its one second.
 */
const PACE = { intervalMs: 250, frameBudgetMs: 20, maxPerFrame: 12 };

const laneOrder = new Intl.Collator('en', { numeric: true });

/** What the server sends that changes the screen. */
type Update = { wall: WallDelta } | { totals: SaleTotals };
/** A lane chart's gap, filled from history after a reconnect. */
type Fill = { lane: string; from: number; points: [number, number][] };

/** A chart and a counter that moves each time the chart changes, for the component that draws it. */
export class ChartView {
  readonly data = new ChartData();
  version = $state(0);

  changed(): void {
    this.version++;
  }
}

export class LaneView {
  tile = $state.raw<LaneTile>() as LaneTile;
  staleness = $state<Staleness>('fresh');
  readonly chart = new ChartView();

  constructor(
    readonly lane: string,
    tile: LaneTile,
  ) {
    this.tile = tile;
  }
}

/**
 * Connects on construction and (re)sends `watch` on every connect. `close()` ends it for good.
 * Everything shown is as the server sent it; only the age of the figures is reckoned here.
 */
export class LiveSale {
  connection = $state<ConnectionState>('reconnecting');
  /** The server's reason for refusing `watch`, if it did. */
  watchError = $state<string | null>(null);
  /** The server refused the connection: nobody is logged in (or the kiosk token was revoked). */
  needsLogin = $state(false);
  totals = $state.raw<SaleTotals | null>(null);
  lanes = $state.raw<LaneView[]>([]);
  readonly saleChart = new ChartView();
  ticker = $state.raw<TickerEntry[]>([]);
  board = $state.raw<SalesBoard | null>(null);
  /** Lanes with no data for over a minute, in lane order: the banner names them. */
  lostLanes = $state.raw<LaneView[]>([]);
  /** The wall build the server serves, from its heartbeat. */
  build = $state<string | null>(null);
  /** The sale's now when the last heartbeat came: "as of" while disconnected. */
  lastBeatAt = $state<number | null>(null);

  readonly #socket: LiveSocket;
  /** The lanes by id: bookkeeping, not state — the screen follows `lanes`. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- see above
  readonly #views = new Map<string, LaneView>();
  readonly #clock = new SaleClock();
  /** Everything the server sends that changes the screen, a lane or the header at a time. */
  readonly #frames = new FrameQueue<Update>((updates) => this.#applyAll(updates), PACE);
  /** While a resume is backfilling: the live deltas held back until it is done. */
  #held: Update[] | null = null;
  /** History fetched after a resume for lanes the screen does not show yet, taken when they come. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping, as #views
  readonly #fills = new Map<string, Fill>();
  #backfill: AbortController | null = null;
  readonly #ageTimer: ReturnType<typeof setInterval>;

  constructor(readonly sale: string) {
    this.#socket = openLiveSocket();
    this.#socket.on('connect', () => {
      this.needsLogin = false;
      this.#watch();
    });
    this.#socket.on('disconnect', () => this.#onConnectionLost());
    this.#socket.on('connect_error', (error) => {
      this.needsLogin = error.message.startsWith('unauthorized');
      this.#onConnectionLost();
    });
    this.#socket.on('heartbeat', (beat) => {
      if (beat.sale !== this.sale) return;
      this.#clock.observe(beat.now);
      this.lastBeatAt = beat.now;
      this.build = beat.build;
      if (this.#socket.connected) this.connection = 'connected';
    });
    this.#socket.on('wall', (delta) => {
      if (delta.sale !== this.sale) return;
      if (this.#held) this.#held.push({ wall: delta });
      else this.#queue({ wall: delta });
    });
    this.#socket.on('sale', (totals) => {
      if (totals.sale !== this.sale) return;
      if (this.#held) this.#held.push({ totals });
      else this.#queue({ totals });
    });
    this.#ageTimer = setInterval(() => this.#age(), AGE_EVERY_MS);
  }

  close(): void {
    clearInterval(this.#ageTimer);
    this.#backfill?.abort();
    this.#frames.clear();
    this.#socket.disconnect();
  }

  #onConnectionLost(): void {
    this.#backfill?.abort();
    this.#held = null;
    this.#fills.clear();
    if (!this.#socket.active) this.connection = 'disconnected';
    else if (this.connection === 'connected') this.connection = 'reconnecting';
  }

  /** A screen that holds charts asks to resume: it will fill the gap itself. */
  #watch(): void {
    const resume = this.#views.size > 0;
    // Deltas of this watch wait (in order) until the gap is filled.
    this.#frames.flush();
    this.#held = resume ? [] : null;
    this.#socket
      .timeout(WATCH_TIMEOUT_MS)
      .emit('watch', { sale: this.sale, view: 'wall', resume }, (timedOut, reply) => {
        if (timedOut) {
          if (this.#socket.connected) this.#watch();
          return;
        }
        this.watchError = reply.ok ? null : reply.error;
        if (!reply.ok) this.#held = null;
        else if (resume) void this.#resume(reply.data);
      });
  }

  /** Fills each lane chart's gap up to the live edge from history, then lets the held deltas in. */
  async #resume(reply: WatchReply): Promise<void> {
    const held = this.#held;
    const { liveFrom, chartStepSec } = reply;
    if (!held || liveFrom === undefined || chartStepSec === undefined) return;
    const abort = new AbortController();
    this.#backfill = abort;
    const signal = AbortSignal.any([abort.signal, AbortSignal.timeout(BACKFILL_TIMEOUT_MS)]);
    const lanes = held
      .flatMap((update) => ('wall' in update ? update.wall.lanes.map((lane) => lane.lane) : []))
      .filter((lane, i, all) => all.indexOf(lane) === i);
    const fills = await Promise.all(
      lanes.map(async (lane) => {
        // From the last point held (it may have changed since), or for a lane new to this screen, its window's start.
        const from = this.#views.get(lane)?.chart.data.lastTs ?? firstWindowFrom(held, lane);
        if (from === undefined || from >= liveFrom) return null;
        try {
          const points = await fetchAttendance(
            this.sale,
            lane,
            { from, to: liveFrom - 1, stepSec: chartStepSec },
            signal,
          );
          return { lane, from, points };
        } catch {
          // No history (InfluxDB away): the gap stays a gap.
          return null;
        }
      }),
    );
    if (abort.signal.aborted || this.#held !== held) return;
    this.#held = null;
    this.#backfill = null;
    // The fills are drawn with each lane's next change, which the held deltas bring.
    for (const fill of fills) {
      if (!fill) continue;
      const view = this.#views.get(fill.lane);
      if (view) view.chart.data.fill(fill.from, fill.points);
      else this.#fills.set(fill.lane, fill);
    }
    for (const update of held) this.#queue(update);
  }

  /** Queues a lane at a time, so the frames can pace a delta of many lanes. */
  #queue(update: Update): void {
    if (!('wall' in update)) return this.#frames.push(update);
    const { sale, lanes, header } = update.wall;
    for (const lane of lanes) this.#frames.push({ wall: { sale, lanes: [lane] } });
    if (header) this.#frames.push({ wall: { sale, lanes: [], header } });
  }

  #applyAll(updates: readonly Update[]): void {
    let added = false;
    let laneChanges = 0;
    for (const update of updates) {
      if ('totals' in update) {
        this.totals = update.totals;
        continue;
      }
      const delta = update.wall;
      for (const lane of delta.lanes) added = this.#applyLane(lane) || added;
      laneChanges += delta.lanes.length;
      const header = delta.header;
      if (header?.chart) {
        this.saleChart.data.apply(header.chart);
        this.saleChart.changed();
      }
      if (header?.ticker) this.ticker = header.ticker;
      if (header?.board) this.board = header.board;
    }
    if (added) this.lanes = [...this.#views.values()].sort((a, b) => laneOrder.compare(a.lane, b.lane));
    this.#age();
    // For profiling the wall (DevTools' Performance panel; the browser tests and bench/display).
    // Only the newest is kept: the browser would otherwise hold every mark of an 8-hour sale.
    performance.clearMarks(SCREEN_UPDATE_MARK);
    performance.mark(SCREEN_UPDATE_MARK, { detail: { laneChanges } });
  }

  /** Applies one lane's change; true when the lane is new to the screen. */
  #applyLane(delta: LaneDelta): boolean {
    let view = this.#views.get(delta.lane);
    const added = !view;
    if (!view) {
      if (!delta.tile) return false;
      view = new LaneView(delta.lane, delta.tile);
      this.#views.set(delta.lane, view);
      // A lane new since the disconnect: its history comes before its first live points.
      const fill = this.#fills.get(delta.lane);
      if (fill) view.chart.data.fill(fill.from, fill.points);
      this.#fills.delete(delta.lane);
    } else if (delta.tile) {
      view.tile = delta.tile;
    }
    view.chart.data.apply(delta.chart);
    view.chart.changed();
    return added;
  }

  /** Re-ages every lane on the screen's clock, and says disconnected when the heartbeat stopped. */
  #age(): void {
    if (this.#clock.sinceBeatMs() > HEARTBEAT_TIMEOUT_MS && this.lastBeatAt !== null) this.connection = 'disconnected';
    const now = this.#clock.now();
    if (now === null) return;
    const lost: LaneView[] = [];
    for (const view of this.lanes) {
      const staleness = stalenessOf(view.tile, now);
      if (view.staleness !== staleness) view.staleness = staleness;
      if (staleness === 'lost') lost.push(view);
    }
    if (lost.length !== this.lostLanes.length || lost.some((view, i) => view !== this.lostLanes[i]))
      this.lostLanes = lost;
  }
}

function firstWindowFrom(updates: readonly Update[], lane: string): number | undefined {
  for (const update of updates) {
    const found = 'wall' in update ? update.wall.lanes.find((l) => l.lane === lane) : undefined;
    if (found) return found.chart.window.from;
  }
  return undefined;
}

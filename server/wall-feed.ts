/**
 * What each sale's wall screens are sent (`wall` view of socket.io `/live`, ./live): everything when
 * a screen starts watching, then only what changed — a lane's tile when anything on it changed, its
 * chart's new buckets, band or markers (./chart-feed), and the header's chart, alert ticker and
 * sales board (./wall-view). It remembers, per watched sale, what its screens hold; the screens
 * of one sale hold the same, so one delta serves them all.
 */
import { DEFAULT_ALERT_CONFIG, type AlertConfig } from '../alerts/config';
import type { Alert } from '../alerts/types';
import { parseChartHistory, serializeChartHistory } from './chart-checkpoint';
import { Buckets, LANE_CHART_SPAN_MS, SALE_CHART_STEP_MS, SaleCharts, SentChart } from './chart-feed';
import { laneBuckets } from './metrics/snapshot';
import type { SaleState } from './metrics/engine';
import type { LaneState } from './metrics/lane';
import type { SaleBoard } from './sale-board';
import { alertTicker, alertsOf, laneTile, salesBoard } from './wall-view';
import type { LaneDelta, LaneTile, SaleHeaderDelta, SalesBoard, SaleTotals, TickerEntry, WallDelta } from './wire';

/** After a resume the live chart points start this long before now: history may trail by a second or two. */
const RESUME_OVERLAP_MS = 60_000;

/** What the wall reads of the alert desk (server/alert-desk.ts) once a second. */
export interface WallAlerts {
  list(filter: { sale: string }): Alert[];
  rules(): AlertConfig;
}

/** One lane as a sale's wall screens have it. */
interface HeldLane {
  tile: LaneTile;
  tileJson: string;
  chart: SentChart;
}

/** What a sale's wall screens have been sent. */
interface Room {
  lanes: Map<string, HeldLane>;
  chart: SentChart;
  ticker: { entries: TickerEntry[]; json: string };
  board: { rows: SalesBoard | null; json: string };
  /** The sale totals of the last header (from the same summary as the board). */
  totals: SaleTotals | undefined;
}

export class WallFeed {
  private readonly rooms = new Map<string, Room>();
  /** Bands, markers and the summed attendance of every open sale (and of watched closed ones). */
  private readonly charts = new Map<string, SaleCharts>();
  /** Each sale's alerts as of the last second, all and by lane. */
  private readonly alertsOf = new Map<string, { all: Alert[]; byLane: Map<string, Alert[]> }>();
  private readonly alerts: WallAlerts;

  constructor(
    private readonly board: SaleBoard,
    alerts?: WallAlerts,
  ) {
    this.alerts = alerts ?? { list: () => [], rules: () => DEFAULT_ALERT_CONFIG };
  }

  /** The width of a lane chart's buckets. */
  get stepMs(): number {
    return this.board.options.chartStepSec * 1000;
  }

  /**
   * Once a second: records every open sale's chart history (bands, markers, summed attendance —
   * watched or not, so a screen that comes later sees them) and takes in the alerts as they stand.
   */
  sample(): void {
    const config = this.alerts.rules();
    for (const { sale, now } of this.board.saleStates()) {
      if (!sale.open && !this.rooms.has(sale.sale)) continue;
      const alerts = this.alerts.list({ sale: sale.sale });
      let charts = this.charts.get(sale.sale);
      if (!charts) this.charts.set(sale.sale, (charts = new SaleCharts(sale, now)));
      if (sale.open) charts.sample(sale, now, alerts, config);
      this.alertsOf.set(sale.sale, { all: alerts, byLane: alertsOf(sale.lanes.values(), alerts) });
    }
  }

  /** Every kept sale's bands and markers as text, for the restart checkpoint (./chart-checkpoint). */
  chartHistory(): string {
    return serializeChartHistory(new Map([...this.charts].map(([sale, charts]) => [sale, charts.history()])));
  }

  /**
   * Takes back the bands and markers of a checkpoint's `chartHistory`, for the sales the restored
   * engine has: at start-up, before any screen watches, so the first ones get them whole. Throws,
   * keeping none of it, when the text cannot be read.
   */
  restoreChartHistory(text: string): void {
    for (const [id, history] of parseChartHistory(text)) {
      const state = this.board.saleState(id);
      if (state) this.charts.set(id, new SaleCharts(state.sale, state.now, history));
    }
  }

  /**
   * Everything the sale's screens hold, chart points from `liveFrom` on, and the totals: for a
   * screen that starts watching. `resume`: it holds charts already, and fills them up to
   * `liveFrom` from history itself.
   */
  join(sale: SaleState, now: number, resume: boolean): { delta: WallDelta; totals?: SaleTotals; liveFrom: number } {
    const room = this.room(sale, now);
    const liveFrom = resume
      ? Math.floor((now - RESUME_OVERLAP_MS) / this.stepMs) * this.stepMs
      : now - LANE_CHART_SPAN_MS;
    const charts = this.charts.get(sale.sale);
    const lanes = inLaneOrder(sale).flatMap((lane): LaneDelta[] => {
      const held = room.lanes.get(lane.lane);
      if (!held) return [];
      const window = laneWindow(lane, now);
      const chart = held.chart.whole(
        window,
        liveFrom,
        charts?.laneBands.get(lane.lane),
        charts?.laneMarkers.get(lane.lane),
      );
      return [{ lane: lane.lane, tile: held.tile, chart }];
    });
    const window = saleWindow(sale, now);
    const header: SaleHeaderDelta = {
      chart: room.chart.whole(window, window.from, charts?.saleBand, charts?.saleMarkers),
      ticker: room.ticker.entries,
      ...(room.board.rows ? { board: room.board.rows } : {}),
    };
    return { delta: { sale: sale.sale, lanes, header }, ...(room.totals ? { totals: room.totals } : {}), liveFrom };
  }

  /** The lanes of `slot` (lane i is in slot i mod `slots`) that changed since the sale's screens got them. */
  lanes(sale: SaleState, now: number, slot: number, slots: number): LaneDelta[] {
    return this.laneChanges(this.room(sale, now), sale, now, (index) => index % slots === slot);
  }

  /** The header parts that changed, and the totals (sent every second). */
  header(sale: SaleState, now: number): { header?: SaleHeaderDelta; totals?: SaleTotals } {
    const room = this.room(sale, now);
    const header = this.headerChanges(room, sale, now);
    return { ...(header ? { header } : {}), ...(room.totals ? { totals: room.totals } : {}) };
  }

  /** Forgets the sales no screen watches (`watched`: those some screen does). */
  forget(watched: ReadonlySet<string>): void {
    for (const sale of this.rooms.keys()) if (!watched.has(sale)) this.rooms.delete(sale);
    for (const sale of this.charts.keys()) {
      if (!watched.has(sale) && this.board.saleState(sale)?.sale.open !== true) {
        this.charts.delete(sale);
        this.alertsOf.delete(sale);
      }
    }
  }

  /** The sale's room, made (and filled, as nobody holds anything yet) on its first screen. */
  private room(sale: SaleState, now: number): Room {
    let room = this.rooms.get(sale.sale);
    if (room) return room;
    if (!this.charts.has(sale.sale)) this.sample();
    room = {
      lanes: new Map(),
      chart: new SentChart(new Buckets(SALE_CHART_STEP_MS)),
      ticker: { entries: [], json: '' },
      board: { rows: null, json: '' },
      totals: undefined,
    };
    this.rooms.set(sale.sale, room);
    this.laneChanges(room, sale, now, () => true);
    this.headerChanges(room, sale, now);
    return room;
  }

  private laneChanges(room: Room, sale: SaleState, now: number, due: (index: number) => boolean): LaneDelta[] {
    const deltas: LaneDelta[] = [];
    const charts = this.charts.get(sale.sale);
    const alerts = this.alertsOf.get(sale.sale)?.byLane;
    inLaneOrder(sale).forEach((lane, index) => {
      if (!due(index)) return;
      const tile = laneTile(lane, sale, now, this.board.options, alerts?.get(lane.lane) ?? []);
      const tileJson = JSON.stringify(tile);
      let held = room.lanes.get(lane.lane);
      if (!held) {
        held = { tile, tileJson: '', chart: new SentChart(new Buckets(this.stepMs)) };
        room.lanes.set(lane.lane, held);
      }
      const window = laneWindow(lane, now);
      const chart = held.chart.update(
        window,
        (from) => laneBuckets(lane, from, window.to, this.stepMs),
        charts?.laneBands.get(lane.lane),
        charts?.laneMarkers.get(lane.lane),
      );
      const tileChanged = tileJson !== held.tileJson;
      if (tileChanged) Object.assign(held, { tile, tileJson });
      if (tileChanged || chart)
        deltas.push({ lane: lane.lane, ...(tileChanged ? { tile } : {}), chart: chart ?? { window } });
    });
    return deltas;
  }

  private headerChanges(room: Room, sale: SaleState, now: number): SaleHeaderDelta | undefined {
    const charts = this.charts.get(sale.sale);
    const header: SaleHeaderDelta = {};
    const chart =
      charts &&
      room.chart.update(
        saleWindow(sale, now),
        (from) => charts.saleOnline.since(from),
        charts.saleBand,
        charts.saleMarkers,
      );
    if (chart) header.chart = chart;
    const ticker = alertTicker(this.alertsOf.get(sale.sale)?.all ?? [], now);
    const tickerJson = JSON.stringify(ticker);
    if (tickerJson !== room.ticker.json) {
      room.ticker = { entries: ticker, json: tickerJson };
      header.ticker = ticker;
    }
    // One summary gives the totals and the board: both add up every lane's figures.
    const summary = this.board.summary(sale.sale);
    if (summary) {
      const { auctioneers: _auctioneers, clerks: _clerks, ...totals } = summary;
      room.totals = totals;
      const rows = salesBoard(summary);
      const json = JSON.stringify(rows);
      if (json !== room.board.json) {
        room.board = { rows, json };
        header.board = rows;
      }
    }
    return Object.keys(header).length > 0 ? header : undefined;
  }
}

function inLaneOrder(sale: SaleState): LaneState[] {
  return [...sale.lanes.values()].sort((a, b) => a.lane.localeCompare(b.lane, undefined, { numeric: true }));
}

/** A lane chart shows the 30 minutes up to now, or up to the lane's closing. */
function laneWindow(lane: LaneState, now: number) {
  const end = lane.showsOpen ? now : (lane.closedAt ?? now);
  return { from: end - LANE_CHART_SPAN_MS, to: end };
}

/** The sale chart shows the whole sale. */
function saleWindow(sale: SaleState, now: number) {
  return { from: sale.openedAt, to: sale.open ? now : (sale.closedAt ?? now) };
}

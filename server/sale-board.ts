import type { LaneEvent } from '../collector/events';
import { EventClock } from './clock';
import {
  advance,
  createEngine,
  ingest,
  retireSale,
  type EngineOptions,
  type EngineState,
  type SaleState,
} from './metrics/engine';
import { restoreEngine, serializeEngine } from './metrics/persist';
import { laneFigures, saleInfo, saleLanes, saleTotals, type SnapshotOptions } from './metrics/snapshot';
import { saleSummary, siteSummary } from './metrics/summary';
import type { LaneFigures, LaneSnapshot, SaleInfo, SaleSummary, SaleTotals, SiteSummary } from './wire';

export interface SaleView {
  lanes: LaneSnapshot[];
  totals: SaleTotals;
}

/** Retired sale ids remembered to drop their stragglers; older ones are forgotten first. */
const RETIRED_REMEMBERED = 10_000;

/** The live figures of every sale: the engine plus the clock that says what "now" is per sale. */
export class SaleBoard {
  private engine: EngineState;
  private readonly sampledClosed = new Set<string>();
  private readonly retired = new Set<string>();
  /** Events that came for a sale after it was retired, dropped. */
  lateForRetiredSale = 0;

  constructor(
    /** What the figures are computed with (staleness limit, baseline and chart windows). */
    readonly options: SnapshotOptions,
    private readonly clock = new EventClock(),
    engineOptions: Partial<EngineOptions> = {},
  ) {
    this.engine = createEngine(engineOptions);
  }

  /** Takes one event off the bus; it is applied once its sale's reorder window has passed it. */
  apply(event: LaneEvent): void {
    // A straggler (an if-sale answer days later) must not start the sale again as a fragment.
    if (this.retired.has(event.sale)) {
      this.lateForRetiredSale++;
      return;
    }
    if (!ingest(this.engine, event)) return;
    const sale = this.engine.sales.get(event.sale);
    if (sale) this.clock.observe(sale.sale, sale.latestTs);
  }

  /**
   * Applies the held events whose reorder window has passed by each sale's clock. The server calls
   * it once a second, so a sale's last events show even when its feed goes quiet.
   */
  tick(): void {
    advance(this.engine, (sale) => this.clock.now(sale));
  }

  /**
   * Retires every sale no event has touched for `idleMs` by its clock — a closed sale a day later,
   * or one whose feed died and never closed it — and returns each one's final summary, to be kept
   * elsewhere. The server calls it on its tick; memory then stays bounded however long it runs.
   */
  retireIdle(idleMs: number): SaleSummary[] {
    const summaries: SaleSummary[] = [];
    for (const sale of [...this.engine.sales.values()]) {
      const now = this.clock.now(sale.sale);
      if (now - sale.latestTs < idleMs) continue;
      summaries.push(saleSummary(sale, now, this.options));
      retireSale(this.engine, sale.sale);
      this.clock.forget(sale.sale);
      this.sampledClosed.delete(sale.sale);
      this.retired.add(sale.sale);
      if (this.retired.size > RETIRED_REMEMBERED) this.retired.delete(this.retired.values().next().value as string);
    }
    return summaries;
  }

  /** The whole engine state as text, for a restart checkpoint. */
  checkpoint(): string {
    return serializeEngine(this.engine);
  }

  /** Replaces the engine state with a checkpoint's (at start-up, before any event is applied). */
  restore(checkpoint: string): void {
    this.engine = restoreEngine(checkpoint);
    for (const sale of this.engine.sales.values()) this.clock.observe(sale.sale, sale.latestTs);
  }

  /**
   * Every lane's figures (no chart) of every open sale at its now: the history recorder's sample.
   * A closed sale gives one last sample, then no more.
   */
  sample(): { sale: string; now: number; lanes: LaneFigures[] }[] {
    const samples = [];
    for (const sale of this.engine.sales.values()) {
      if (!sale.open && this.sampledClosed.has(sale.sale)) continue;
      if (!sale.open) this.sampledClosed.add(sale.sale);
      const now = sale.open ? this.clock.now(sale.sale) : (sale.closedAt ?? sale.latestTs);
      const lanes = [...sale.lanes.values()].map((lane) => laneFigures(lane, sale, now, this.options));
      samples.push({ sale: sale.sale, now, lanes });
    }
    return samples;
  }

  /** Every sale's engine state with its event-time now: what the alert rules evaluate. */
  saleStates(): { sale: SaleState; now: number }[] {
    return [...this.engine.sales.values()].map((sale) => ({ sale, now: this.clock.now(sale.sale) }));
  }

  /** One sale's engine state with its event-time now (read only): what the wall display's feed reads. */
  saleState(saleId: string): { sale: SaleState; now: number } | undefined {
    const sale = this.engine.sales.get(saleId);
    return sale && { sale, now: this.clock.now(saleId) };
  }

  /** Sales known, newest first. */
  sales(): SaleInfo[] {
    return [...this.engine.sales.values()].map(saleInfo).sort((a, b) => b.openedAt - a.openedAt);
  }

  view(saleId: string): SaleView | undefined {
    const sale = this.engine.sales.get(saleId);
    if (!sale) return undefined;
    const now = this.clock.now(saleId);
    const lanes = saleLanes(sale, now, this.options);
    return { lanes, totals: saleTotals(sale, lanes, now) };
  }

  summary(saleId: string): SaleSummary | undefined {
    const sale = this.engine.sales.get(saleId);
    return sale && saleSummary(sale, this.clock.now(saleId), this.options);
  }

  /** The auction site's sales rolled up; undefined when no sale of that site is known. */
  siteSummary(auction: string): SiteSummary | undefined {
    const sales = [...this.engine.sales.values()].filter((sale) => sale.auction === auction);
    return sales.length === 0 ? undefined : siteSummary(auction, sales, (sale) => this.clock.now(sale));
  }
}

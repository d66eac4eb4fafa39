import type { LaneEvent } from '../collector/events';
import { EventClock } from './clock';
import { applyEvent, createEngine, type EngineState } from './metrics/engine';
import { saleInfo, saleLanes, saleTotals, type SnapshotOptions } from './metrics/snapshot';
import type { LaneSnapshot, SaleInfo, SaleTotals } from './wire';

export interface SaleView {
  lanes: LaneSnapshot[];
  totals: SaleTotals;
}

/** The live figures of every sale: the engine plus the clock that says what "now" is per sale. */
export class SaleBoard {
  private readonly engine: EngineState = createEngine();

  constructor(
    private readonly options: SnapshotOptions,
    private readonly clock = new EventClock(),
  ) {}

  apply(event: LaneEvent): void {
    if (!applyEvent(this.engine, event)) return;
    const sale = this.engine.sales.get(event.sale);
    if (sale) this.clock.observe(sale.sale, sale.latestTs);
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
}

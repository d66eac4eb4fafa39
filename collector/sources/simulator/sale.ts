/**
 * A whole simulated sale: the plan, and its events as one lazily merged, ts-ordered stream of
 * every lane plus each feed connection's heartbeats, between `sale.opened` and `sale.closed`.
 */
import type { LaneEvent } from '../../events';
import { silencedAt, type Incident } from './incidents';
import { laneEvents } from './lane';
import { mergeByTs } from './merge';
import { planSale, type SaleOptions, type SalePlan, type SourceEventBody } from './plan';

const HEARTBEAT_EVERY = 5000;

export interface SimulatedSale {
  auction: string;
  sale: string;
  name: string;
  start: number;
  end: number;
  /** '1'..'N'. */
  lanes: string[];
  /** Feed connection names (`sim-1`, …); each carries a block of lanes. */
  sources: string[];
  /** Ground truth for detectors: what was scripted, where, and exactly when. */
  incidents: Incident[];
  /**
   * The whole sale in ts order (ties in a fixed order), generated lazily with memory bounded by
   * the number of lanes. Each call starts over and yields the same events.
   */
  events(): Generator<LaneEvent>;
}

/** Plans a sale from `config` (the seed decides everything; `config.speed` is for playback). */
export function simulateSale(config: SaleOptions): SimulatedSale {
  const plan = planSale(config);
  return {
    auction: plan.auction,
    sale: plan.sale,
    name: plan.name,
    start: plan.start,
    end: plan.end,
    lanes: plan.lanes.map((lane) => lane.id),
    sources: [...plan.sources],
    // A copy: callers may keep and change it, the generator must not see that.
    incidents: plan.incidents.map((incident) => ({ ...incident })),
    events: () => saleEvents(plan),
  };
}

function* saleEvents(plan: SalePlan): Generator<LaneEvent> {
  // Events without a lane are numbered per source, apart from that source's lanes.
  const seqs = new Map<string, number>();
  const silenced = new Map(plan.sources.map((source) => [source, silencedAt(plan.incidents, source)]));
  const stamp = (source: string, body: SourceEventBody): LaneEvent | undefined => {
    const seq = (seqs.get(source) ?? 0) + 1;
    seqs.set(source, seq);
    if (silenced.get(source)?.(body.ts) === true) return undefined;
    return { id: `${plan.sale}:${source}:${seq}`, source, auction: plan.auction, sale: plan.sale, seq, ...body };
  };
  function* heartbeats(source: string): Generator<LaneEvent> {
    for (let ts = plan.start + HEARTBEAT_EVERY; ts < plan.end; ts += HEARTBEAT_EVERY) {
      const event = stamp(source, { type: 'heartbeat', ts });
      if (event !== undefined) yield event;
    }
  }

  // The first source speaks for the sale as a whole.
  const main = plan.sources[0] as string;
  const opened = stamp(main, { type: 'sale.opened', ts: plan.start, name: plan.name });
  if (opened !== undefined) yield opened;
  yield* mergeByTs([...plan.lanes.map((lane) => laneEvents(plan, lane)), ...plan.sources.map(heartbeats)]);
  const closed = stamp(main, { type: 'sale.closed', ts: plan.end, name: plan.name });
  if (closed !== undefined) yield closed;
}

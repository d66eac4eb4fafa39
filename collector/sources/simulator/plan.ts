/**
 * The sale plan: everything about a simulated sale decided up front from the seed — ids, lanes
 * and the feed connections carrying them, staff, each lane's audience, the scripted incidents.
 * Its size depends on the number of lanes only; the events themselves are generated lazily.
 */
import type { SimulatorConfig } from '../../../config';
import type { LaneEvent } from '../../events';
import { drawDealers, drawPeople } from './catalog';
import { planIncidents, type Incident } from './incidents';
import { Random } from './random';

const MINUTE = 60_000;
/** Lanes per feed connection, as when one platform connection serves a block of lanes. */
const LANES_PER_SOURCE = 4;
/** The one clerk who is reliably slow to accept online bids: the story `clerk.slow` should tell. */
const SLOW_CLERK = 'Marcy Dunn';
/** A third into the sale one clerk goes on break and a relief clerk takes the lane. */
const RELIEF_AT = 0.33;

type SourceLevel = 'sale.opened' | 'sale.closed' | 'heartbeat';
type Envelope = 'id' | 'source' | 'auction' | 'sale' | 'lane' | 'seq';
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A lane event before the lane stamps its envelope on it. */
export type LaneEventBody = DistributiveOmit<Exclude<LaneEvent, { type: SourceLevel }>, Envelope>;
/** A sale-level event or heartbeat before its source stamps the envelope on it. */
export type SourceEventBody = DistributiveOmit<Extract<LaneEvent, { type: SourceLevel }>, Envelope>;

export interface Clerk {
  name: string;
  /** Median time from an online bidder's click to this clerk accepting it. */
  latencyMs: number;
}

export interface Auctioneer {
  name: string;
  /** Multiplies every pause in a run: < 1 is a fast chant. */
  pace: number;
}

export interface LanePlan {
  id: string;
  source: string;
  opensAt: number;
  /** No vehicle goes up after this; the lane closes shortly after its last run. */
  lastUpBy: number;
  auctioneer: Auctioneer;
  clerk: Clerk;
  /** The mid-sale clerk change, if this lane has it. */
  relief: { at: number; clerk: Clerk } | undefined;
  /** Online bidders once the lane has warmed up. */
  level: number;
  /** Viewers per online bidder (viewers include the bidders). */
  watchRatio: number;
  /** Chance that a bid comes from an online bidder when the lane is at its level. */
  onlineShare: number;
  streamLatencyMs: number;
  /** A slow swell and ebb of the audience, so the level is not a flat line. */
  wander: { periodMs: number; phase: number };
  /** This lane's online dealers, most active first. */
  bidders: string[];
  floorDealers: string[];
}

export interface SalePlan {
  seed: number;
  auction: string;
  sale: string;
  name: string;
  start: number;
  end: number;
  /** Model years are relative to it. */
  year: number;
  lanes: LanePlan[];
  sources: string[];
  incidents: Incident[];
  /** Share of its level a lane keeps at the bottom of an attendance collapse. */
  collapseTo: number;
}

/**
 * `incidents: false` plans the same sale without its scripted incidents — every other draw is
 * unchanged — as a clean control for detectors.
 */
export type SaleOptions = SimulatorConfig & { incidents?: boolean };

export function planSale(config: SaleOptions): SalePlan {
  if (!Number.isInteger(config.lanes) || config.lanes < 1) {
    throw new RangeError(`lanes must be an integer ≥ 1 (got ${config.lanes})`);
  }
  if (!(config.durationMin > 0)) throw new RangeError(`durationMin must be > 0 (got ${config.durationMin})`);
  // To the second, so that each demo run is its own sale (ids would repeat within a minute).
  const start = config.start ?? Math.floor(Date.now() / 1000) * 1000;
  const length = config.durationMin * MINUTE;
  const end = start + length;
  const rng = new Random(config.seed, 'plan');

  const laneIds = Array.from({ length: config.lanes }, (_, i) => String(i + 1));
  const sources = Array.from({ length: Math.ceil(config.lanes / LANES_PER_SOURCE) }, (_, i) => `sim-${i + 1}`);
  const incidents = planIncidents(rng, start, end, laneIds, sources);

  const people = drawPeople(rng, 2 * config.lanes + 1);
  const name = (i: number) => people[i] as string;
  const slowLane = rng.pick(laneIds);
  // The relief clerk goes to another lane than the slow clerk's, so both stories stay readable;
  // with one lane the relief takes over from the slow clerk.
  const reliefLane = config.lanes === 1 ? slowLane : rng.pick(laneIds.filter((id) => id !== slowLane));
  const relief = { at: start + Math.round(RELIEF_AT * length), clerk: normalClerk(rng, name(2 * config.lanes)) };

  const lanes = laneIds.map((id, i): LanePlan => {
    const level = rng.uniform(20, 80);
    return {
      id,
      source: sources[Math.floor(i / LANES_PER_SOURCE)] as string,
      opensAt: start + Math.round(rng.uniform(0, Math.min(3 * MINUTE, length / 50))),
      lastUpBy: end - Math.round(rng.uniform(0.005, 0.025) * length),
      auctioneer: { name: name(i), pace: rng.uniform(0.92, 1.08) },
      clerk:
        id === slowLane
          ? { name: SLOW_CLERK, latencyMs: rng.uniform(3500, 5000) }
          : normalClerk(rng, name(config.lanes + i)),
      relief: id === reliefLane ? relief : undefined,
      level,
      watchRatio: rng.uniform(2, 3),
      onlineShare: rng.uniform(0.44, 0.54),
      streamLatencyMs: rng.uniform(850, 1150),
      wander: { periodMs: rng.uniform(30, 70) * MINUTE, phase: rng.uniform(0, 2 * Math.PI) },
      bidders: drawDealers(rng, Math.round(level * 4)),
      floorDealers: drawDealers(rng, 40),
    };
  });

  return {
    seed: config.seed,
    auction: config.auction,
    sale: `${config.auction}-${stamp(start)}`,
    name: `${titleCase(config.auction)} Weekly Dealer Sale`,
    start,
    end,
    year: new Date(start).getUTCFullYear(),
    lanes,
    sources,
    incidents: config.incidents === false ? [] : incidents,
    collapseTo: rng.uniform(0.25, 0.35),
  };
}

function normalClerk(rng: Random, name: string): Clerk {
  return { name, latencyMs: rng.uniform(800, 1500) };
}

/** `YYYYMMDD-HHmmss` in UTC. */
function stamp(ts: number): string {
  const iso = new Date(ts).toISOString();
  return `${iso.slice(0, 10).replaceAll('-', '')}-${iso.slice(11, 19).replaceAll(':', '')}`;
}

function titleCase(id: string): string {
  return id
    .split(/[-_\s]+/)
    .filter((word) => word.length > 0)
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');
}

/**
 * The seasonal prior of the attendance baseline: how a lane's online audience usually moves over
 * a sale at this site — the dealers logging in over the first ~20 minutes, the fade towards the
 * end — from the site's previous sales, so that the normal shape of a sale does not page anyone.
 */
import { median } from '../server/metrics/windows';

export interface SeasonalPrior {
  /**
   * The lane's usual online bidders `minutesSinceOpen` whole minutes after it opened, or undefined
   * when the history has nothing for that minute. Called by the decline rule once per lane per
   * evaluation and per attendance sample, so it must be a lookup, not a query. Only ratios
   * between minutes are used: crowds differ from one sale to the next, their shape repeats.
   */
  expected(auction: string, lane: string, minutesSinceOpen: number): number | undefined;
}

/** One lane in one previous sale: the mean online bidders of each minute after it opened. */
export interface PastLaneAttendance {
  auction: string;
  lane: string;
  /** Index = minutes since the lane opened; null = no sample that minute. */
  perMinute: (number | null)[];
}

/** Previous sales a minute needs before the prior speaks for it: a median of fewer is one sale's luck. */
const MIN_SALES = 3;
/** Minutes on each side averaged: the shape is smooth, a minute's median still carries noise. */
const SMOOTHING_HALF_WIDTH = 2;

/**
 * A prior from previous sales. Each past lane's curve is divided by its own median first, so a
 * big sale and a small one weigh the same; each minute then takes the median across sales, so a
 * collapse that hit this lane in one sale out of twenty does not become part of its "normal".
 */
export function seasonalPriorFrom(history: readonly PastLaneAttendance[]): SeasonalPrior {
  const curves = new Map<string, number[][]>();
  for (const past of history) {
    const typical = median(past.perMinute.filter((v): v is number => v !== null));
    if (typical === null || typical <= 0) continue;
    const key = `${past.auction}\n${past.lane}`;
    const normalized = past.perMinute.map((v) => (v === null ? Number.NaN : v / typical));
    curves.set(key, [...(curves.get(key) ?? []), normalized]);
  }
  const profiles = new Map<string, (number | undefined)[]>();
  for (const [key, sales] of curves) profiles.set(key, smooth(mediansByMinute(sales)));
  return {
    expected: (auction, lane, minute) => profiles.get(`${auction}\n${lane}`)?.[minute],
  };
}

function mediansByMinute(sales: readonly number[][]): (number | undefined)[] {
  const minutes = Math.max(...sales.map((curve) => curve.length));
  return Array.from({ length: minutes }, (_, minute) => {
    const values = sales.map((curve) => curve[minute] ?? Number.NaN).filter((v) => !Number.isNaN(v));
    return values.length >= MIN_SALES ? (median(values) ?? undefined) : undefined;
  });
}

function smooth(profile: readonly (number | undefined)[]): (number | undefined)[] {
  return profile.map((value, minute) => {
    if (value === undefined) return undefined;
    let sum = 0;
    let n = 0;
    for (let i = minute - SMOOTHING_HALF_WIDTH; i <= minute + SMOOTHING_HALF_WIDTH; i++) {
      const neighbour = profile[i];
      if (neighbour === undefined) continue;
      sum += neighbour;
      n++;
    }
    return sum / n;
  });
}

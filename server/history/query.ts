/**
 * Reads a lane's stored figure history back from InfluxDB as chart-ready `[ts, value]` pairs:
 * raw 1-second points, or the last value of each `step` bucket for longer steps.
 */
import { quoteLiteral, type InfluxStore } from '../../storage/influxdb';
import type { HistoryMetric } from './figures';
import { HISTORY_MEASUREMENT } from './recorder';

const MIN = 60_000;
/** Range shown when the caller gives no bounds, or only one of them. */
const DEFAULT_SPAN_MS = 30 * MIN;
/** A step chosen for the caller keeps the answer at about this many points. */
const TARGET_POINTS = 1000;
/** An explicit step may ask for this many points at most. */
const MAX_POINTS = 10_000;
/** Bucket widths a chosen step is rounded up to, so buckets fall on round times. */
const ROUND_STEPS_SEC = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400];
const DAY_SEC = 86_400;

export interface HistoryRequest {
  sale: string;
  lane: string;
  metric: HistoryMetric;
  /** Inclusive bounds, ms. */
  from: number;
  to: number;
  stepSec: number;
}

export type HistoryPoints = [ts: number, value: number][];

export type RangePlan = { ok: true; from: number; to: number; stepSec: number } | { ok: false; reason: string };

/**
 * Completes the caller's bounds and step. A missing bound is the other one ± 30 min; with
 * neither, the range ends at the lane's newest stored point (`newest`, or `now` without one). A
 * missing step is the smallest round one that keeps the answer within ~1000 points.
 */
export function planRange(
  asked: { from?: number; to?: number; stepSec?: number },
  newest: number | undefined,
  now: number,
): RangePlan {
  const to = asked.to ?? (asked.from === undefined ? (newest ?? now) : asked.from + DEFAULT_SPAN_MS);
  const from = asked.from ?? to - DEFAULT_SPAN_MS;
  if (from > to) return { ok: false, reason: `from (${iso(from)}) is after to (${iso(to)})` };
  const spanSec = (to - from) / 1000;
  const stepSec = asked.stepSec ?? roundStep(spanSec / TARGET_POINTS);
  const points = Math.floor(spanSec / stepSec) + 1;
  if (points > MAX_POINTS) {
    const minStep = Math.ceil(spanSec / (MAX_POINTS - 1));
    const reason = `range too large for step: ${points} points of ${stepSec}s (at most ${MAX_POINTS})`;
    return { ok: false, reason: `${reason}; use step=${minStep}s or more, or a shorter range` };
  }
  return { ok: true, from, to, stepSec };
}

/** Time of the lane's newest stored value of `metric`, if it has any. */
export async function newestPointAt(
  store: InfluxStore,
  sale: string,
  lane: string,
  metric: HistoryMetric,
): Promise<number | undefined> {
  const [series] = await store.query(
    `SELECT last(${field(metric)}) FROM ${HISTORY_MEASUREMENT} WHERE ${laneFilter(sale, lane)}`,
  );
  const time = series?.values[0]?.[0];
  return typeof time === 'number' ? time : undefined;
}

export async function laneHistory(store: InfluxStore, request: HistoryRequest): Promise<HistoryPoints> {
  const { sale, lane, metric, from, to, stepSec } = request;
  const range = `time >= ${instant(from)} AND time <= ${instant(to)}`;
  const fromWhere = `FROM ${HISTORY_MEASUREMENT} WHERE ${laneFilter(sale, lane)} AND ${range}`;
  // Points are stored one per second, so a 1-second step is the raw points themselves.
  const influxql =
    stepSec === 1
      ? `SELECT ${field(metric)} ${fromWhere}`
      : `SELECT last(${field(metric)}) ${fromWhere} GROUP BY time(${stepSec}s) fill(none)`;
  const [series] = await store.query(influxql);
  return (series?.values ?? []).flatMap(([ts, value]) =>
    typeof ts === 'number' && typeof value === 'number' ? [[ts, value] as [number, number]] : [],
  );
}

function laneFilter(sale: string, lane: string): string {
  return `sale = ${quoteLiteral(sale)} AND lane = ${quoteLiteral(lane)}`;
}

/** Metric names are checked against the figure table before they get here; quoted all the same. */
function field(metric: HistoryMetric): string {
  return `"${metric}"`;
}

/** RFC 3339 literals: every InfluxQL server (1.x, 2.x, 3.x) reads them the same way. */
function instant(ms: number): string {
  return quoteLiteral(iso(ms));
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function roundStep(minSec: number): number {
  return ROUND_STEPS_SEC.find((step) => step >= minSec) ?? Math.ceil(minSec / DAY_SEC) * DAY_SEC;
}

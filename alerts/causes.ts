/**
 * Likely causes of a lane's attendance decline (../shared/METRICS.md §Alerts), so the manager
 * knows where to look first: stream lag or lost messages on the lane, a staff change, a pace too
 * fast for online bidders, a run of no-sales, and the sale-wide trend (every lane falling = the
 * platform or the end of the sale; this lane alone = this lane).
 *
 * Each lane keeps a short history for this: one slot per 30 s over the causes window (10 min) plus
 * a minute, so its size is fixed whatever the sale's length — 22 slots of nine fields. The
 * sale-wide trend needs no history: every lane's decline rule already knows its baseline (frozen
 * while it declines) and its level over the last 30 s.
 *
 * Ranking: the sale-wide trend first when every lane falls (a lane-level cause would not explain
 * the others); then causes that act on the audience directly (its stream, its feed) before
 * operational ones (staff, pace, no-sales); and a cause that showed up only after the drop had
 * begun ranks as half as likely as one that came before it.
 */
import type { AlertConfig } from './config';
import type { LaneSample } from './samples';

const SLOT_MS = 30_000;
/** A cause seen up to this long after the drop began still counts as before it (sampling jitter). */
const ONSET_SLACK_MS = 60_000;

export interface HistorySlot {
  /** Slot start (event time, a multiple of 30 s). */
  at: number;
  maxLatencyMs: number | null;
  /** The lane's lost-message count (sale to date) at the slot's last evaluation. */
  feedGaps: number;
  /** Longest run of no-sales in a row seen during the slot. */
  noSaleRun: number;
  minHammerLeadSec: number | null;
  minSecondsPerVehicle: number | null;
  auctioneer: string | null;
  clerk: string | null;
}

export interface LaneHistory {
  slots: HistorySlot[];
  /** No-sales in a row now, and the counts it was worked out from. */
  noSaleRun: number;
  offered: number | null;
  noSale: number;
}

export function newHistory(): LaneHistory {
  return { slots: [], noSaleRun: 0, offered: null, noSale: 0 };
}

/** Adds one evaluation of an open lane to its history (in place: the history is the evaluator's). */
export function recordHistory(history: LaneHistory, sample: LaneSample, now: number, config: AlertConfig): void {
  if (history.offered !== null && sample.offered > history.offered) {
    const finished = sample.offered - history.offered;
    history.noSaleRun = sample.noSale - history.noSale >= finished ? history.noSaleRun + finished : 0;
  }
  history.offered = sample.offered;
  history.noSale = sample.noSale;

  const at = Math.floor(now / SLOT_MS) * SLOT_MS;
  let slot = history.slots.at(-1);
  if (slot === undefined || slot.at < at) {
    slot = {
      at,
      maxLatencyMs: null,
      feedGaps: sample.feedGaps,
      noSaleRun: 0,
      minHammerLeadSec: null,
      minSecondsPerVehicle: null,
      auctioneer: sample.auctioneer,
      clerk: sample.clerk,
    };
    history.slots.push(slot);
    const kept = Math.ceil((config.causes.windowMin * 60_000) / SLOT_MS) + 2;
    if (history.slots.length > kept) history.slots.splice(0, history.slots.length - kept);
  }
  slot.maxLatencyMs = maxOf(slot.maxLatencyMs, sample.streamLatencyMs);
  slot.feedGaps = sample.feedGaps;
  slot.noSaleRun = Math.max(slot.noSaleRun, history.noSaleRun);
  slot.minHammerLeadSec = minOf(slot.minHammerLeadSec, sample.hammerLeadSec);
  slot.minSecondsPerVehicle = minOf(slot.minSecondsPerVehicle, sample.secondsPerVehicle);
  slot.auctioneer = sample.auctioneer;
  slot.clerk = sample.clerk;
}

interface Cause {
  text: string;
  weight: number;
  /** When the evidence first showed; null for what has no start of its own (the trend). */
  onset: number | null;
}

/** Another open lane's attendance now: its baseline and its mean over the last 30 s. */
export interface LaneLevel {
  baseline: number;
  recent: number;
}

/**
 * The likely causes of `lane`'s decline that began at `since`, most likely first; `others` are
 * the sale's other open lanes that have a baseline.
 */
export function likelyCauses(
  lane: string,
  history: LaneHistory,
  others: readonly LaneLevel[],
  since: number,
  now: number,
  config: AlertConfig,
): string[] {
  const from = since - config.causes.windowMin * 60_000;
  const slots = history.slots.filter((slot) => slot.at + SLOT_MS > from && slot.at <= now);
  if (slots.length === 0) return [];
  const causes: Cause[] = [
    ...streamLag(lane, slots, config),
    ...feedGaps(lane, history.slots, slots),
    ...staffChanges(slots, since),
    ...fastPace(slots, config),
    ...noSales(slots, config),
    ...saleTrend(lane, others, config),
  ];
  return causes
    .map((cause) => ({
      ...cause,
      weight: cause.onset !== null && cause.onset > since + ONSET_SLACK_MS ? cause.weight / 2 : cause.weight,
    }))
    .sort((a, b) => b.weight - a.weight)
    .map((cause) => cause.text);
}

function streamLag(lane: string, slots: readonly HistorySlot[], config: AlertConfig): Cause[] {
  const lagging = slots.filter((slot) => (slot.maxLatencyMs ?? 0) > config['stream.lagging'].fireMs);
  const first = lagging[0];
  if (first === undefined) return [];
  const worst = Math.max(...lagging.map((slot) => slot.maxLatencyMs ?? 0));
  return [{ text: `stream lag on lane ${lane} (up to ${(worst / 1000).toFixed(1)} s)`, weight: 0.8, onset: first.at }];
}

function feedGaps(lane: string, all: readonly HistorySlot[], window: readonly HistorySlot[]): Cause[] {
  // The count before the window: the slot just before it, if kept.
  const firstIndex = all.indexOf(window[0] as HistorySlot);
  const before = all[firstIndex - 1] ?? (window[0] as HistorySlot);
  const lost = (window.at(-1) as HistorySlot).feedGaps - before.feedGaps;
  if (lost <= 0) return [];
  let previous = before.feedGaps;
  const onset = window.find((slot) => {
    const grew = slot.feedGaps > previous;
    previous = slot.feedGaps;
    return grew;
  });
  return [{ text: `${lost} messages lost on lane ${lane}'s feed`, weight: 0.7, onset: onset?.at ?? null }];
}

function staffChanges(slots: readonly HistorySlot[], since: number): Cause[] {
  const causes: Cause[] = [];
  for (const role of ['clerk', 'auctioneer'] as const) {
    for (let i = 1; i < slots.length; i++) {
      const [previous, slot] = [slots[i - 1] as HistorySlot, slots[i] as HistorySlot];
      if (previous[role] === slot[role]) continue;
      const minutes = Math.round((since - slot.at) / 60_000);
      const when = minutes > 0 ? `${minutes} min before the drop` : 'as it dropped';
      causes.push({
        text: `${role} changed ${when} (${previous[role] ?? 'nobody'} → ${slot[role] ?? 'nobody'})`,
        weight: 0.6,
        onset: slot.at,
      });
    }
  }
  return causes;
}

function fastPace(slots: readonly HistorySlot[], config: AlertConfig): Cause[] {
  const pace = config['pace.fast'];
  const fast = slots.find(
    (slot) =>
      (slot.minHammerLeadSec !== null && slot.minHammerLeadSec < pace.fireLeadSec) ||
      (slot.minSecondsPerVehicle !== null && slot.minSecondsPerVehicle < pace.fireSecondsPerVehicle),
  );
  if (fast === undefined) return [];
  const lead = fast.minHammerLeadSec === null ? '?' : fast.minHammerLeadSec.toFixed(1);
  const perVehicle = fast.minSecondsPerVehicle === null ? '?' : Math.round(fast.minSecondsPerVehicle);
  return [
    {
      text: `pace too fast (hammer ${lead} s after the last online bid, ${perVehicle} s a vehicle)`,
      weight: 0.5,
      onset: fast.at,
    },
  ];
}

function noSales(slots: readonly HistorySlot[], config: AlertConfig): Cause[] {
  const longest = Math.max(...slots.map((slot) => slot.noSaleRun));
  if (longest < config.causes.noSaleRun) return [];
  const onset = slots.find((slot) => slot.noSaleRun >= config.causes.noSaleRun);
  return [{ text: `${longest} no-sales in a row`, weight: 0.4, onset: onset?.at ?? null }];
}

function saleTrend(lane: string, others: readonly LaneLevel[], config: AlertConfig): Cause[] {
  if (others.length === 0) return [];
  const falling = others.filter(
    (other) => other.recent <= (1 - config.causes.laneFallPct / 100) * other.baseline,
  ).length;
  if (falling / others.length >= config.causes.saleWideShare) {
    return [
      {
        text: `all lanes falling (${falling} of ${others.length} others down ≥ ${config.causes.laneFallPct} %): platform or end of sale`,
        weight: 0.9,
        onset: null,
      },
    ];
  }
  if (falling === 0)
    return [{ text: `only lane ${lane} is falling: look at the lane itself`, weight: 0.3, onset: null }];
  return [];
}

function maxOf(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.max(a, b);
}

function minOf(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}

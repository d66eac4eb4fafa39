/**
 * Scripted incidents: the labelled trouble every simulated sale contains, at fixed fractions of
 * the sale, so detectors can be scored against ground truth. Windows are half-open, [from, to).
 * Durations are the realistic ones for a long sale and shrink in proportion for short ones
 * (a 10-minute test sale still gets all five, without overlaps). One effect outlasts its label:
 * bidders who left a lagging stream come back over a few minutes after the lag ends.
 */
import type { Random } from './random';

export interface Incident {
  kind: 'attendance.collapse' | 'stream.lag' | 'lane.stall' | 'source.silent' | 'sale.fade';
  lane?: string;
  source?: string;
  from: number;
  to: number;
}

const MINUTE = 60_000;

/** Where each incident starts (fraction of the sale) and how long it lasts: nominal, or at most a share of the sale. */
const SCRIPT = {
  collapse: { at: 0.2, nominal: 17 * MINUTE, share: 0.1 },
  lag: { at: 0.4, nominal: 10 * MINUTE, share: 0.08 },
  stall: { at: 0.55, nominal: 6 * MINUTE, share: 0.1 },
  silent: { at: 0.7, nominal: 2 * MINUTE, share: 0.05 },
  fade: { at: 0.8 },
} as const;

/** The collapse's drop and its recovery each take ~1 min. */
const COLLAPSE_EDGE = { nominal: MINUTE, share: 0.1 };
/** Bidders who leave a lagging stream (20 %) and come back over a few minutes once it is fixed. */
const LAG_ATTENDANCE_LOSS = 0.2;
const LAG_RECOVERY = { nominal: 3 * MINUTE, share: 0.3 };
const FADE_LOSS = 0.4;

export function planIncidents(
  rng: Random,
  start: number,
  end: number,
  lanes: readonly string[],
  sources: readonly string[],
): Incident[] {
  const length = end - start;
  const window = (kind: Incident['kind'], s: { at: number; nominal: number; share: number }) => {
    const from = start + Math.round(s.at * length);
    return { kind, from, to: from + Math.round(Math.min(s.nominal, s.share * length)) };
  };
  // Distinct lanes when there are enough, so one lane's trouble never explains another's.
  const order = rng.shuffle(lanes);
  const laneAt = (i: number) => order[i % order.length] as string;
  return [
    { ...window('attendance.collapse', SCRIPT.collapse), lane: laneAt(0) },
    { ...window('stream.lag', SCRIPT.lag), lane: laneAt(1) },
    { ...window('lane.stall', SCRIPT.stall), lane: laneAt(2) },
    { ...window('source.silent', SCRIPT.silent), source: rng.pick(sources) },
    { kind: 'sale.fade', from: start + Math.round(SCRIPT.fade.at * length), to: end },
  ];
}

/**
 * Multiplier on a lane's expected online count at `ts` from the incidents that touch it;
 * `collapseTo` is the share of bidders left at the bottom of a collapse.
 */
export function incidentAttendance(
  incidents: readonly Incident[],
  lane: string,
  collapseTo: number,
  ts: number,
): number {
  let factor = 1;
  for (const incident of incidents) {
    if (incident.lane !== undefined && incident.lane !== lane) continue;
    const length = incident.to - incident.from;
    if (incident.kind === 'attendance.collapse' && ts >= incident.from && ts < incident.to) {
      const edge = Math.min(COLLAPSE_EDGE.nominal, COLLAPSE_EDGE.share * length);
      const depth = Math.min(1, (ts - incident.from) / edge, (incident.to - ts) / edge);
      factor *= 1 - (1 - collapseTo) * depth;
    } else if (incident.kind === 'stream.lag' && ts >= incident.from) {
      const recovery = Math.min(LAG_RECOVERY.nominal, LAG_RECOVERY.share * length);
      if (ts < incident.to) factor *= 1 - (LAG_ATTENDANCE_LOSS * (ts - incident.from)) / length;
      else if (ts < incident.to + recovery) factor *= 1 - LAG_ATTENDANCE_LOSS * (1 - (ts - incident.to) / recovery);
    } else if (incident.kind === 'sale.fade' && ts >= incident.from) {
      factor *= 1 - (FADE_LOSS * (ts - incident.from)) / length;
    }
  }
  return factor;
}

export function isLagging(incidents: readonly Incident[], lane: string, ts: number): boolean {
  return incidents.some((i) => i.kind === 'stream.lag' && i.lane === lane && ts >= i.from && ts < i.to);
}

export function stallOf(incidents: readonly Incident[], lane: string): Incident | undefined {
  return incidents.find((i) => i.kind === 'lane.stall' && i.lane === lane);
}

/** Whether `source` is silent at a ts: its events then are lost, not delayed. */
export function silencedAt(incidents: readonly Incident[], source: string): (ts: number) => boolean {
  const silence = incidents.find((i) => i.kind === 'source.silent' && i.source === source);
  return silence === undefined ? () => false : (ts) => ts >= silence.from && ts < silence.to;
}

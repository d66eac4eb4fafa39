/**
 * One lane's timeline, generated run by run: the current run's events, what earlier runs cause
 * later (if-sale answers, reversals), attendance every 5 s and stream health every 10 s, merged in
 * ts order. Only the current run and a handful of pending answers are held, whatever the sale's
 * length. The lane stamps the envelope, numbering every event (`seq`) even when its source is
 * silent, so lost events leave the gaps a real feed would.
 */
import type { LaneEvent } from '../../events';
import { expectedOnline, sampleAttendance, sampleStream } from './audience';
import { drawVehicle, type Vehicle } from './catalog';
import { silencedAt, stallOf } from './incidents';
import type { LaneEventBody, LanePlan, SalePlan } from './plan';
import { Random } from './random';
import { simulateRun, type RunResult } from './runs';

const SECOND = 1000;
const ATTENDANCE_EVERY = 5 * SECOND;
const STREAM_EVERY = 10 * SECOND;
/** A vehicle that would still be on the block this close to the sale's end is not put up. */
const CLOSING_MARGIN = 2 * SECOND;
/** Passed vehicles the seller sends through again, a few runs later (once). */
const RERUN_CHANCE = 0.08;

interface Rerun {
  run: number;
  vehicle: Vehicle;
  /** Put up once this many new vehicles have run. */
  after: number;
}

export function* laneEvents(plan: SalePlan, lane: LanePlan): Generator<LaneEvent> {
  const runsRng = new Random(plan.seed, `lane/${lane.id}/runs`);
  const audienceRng = new Random(plan.seed, `lane/${lane.id}/audience`);
  const stall = stallOf(plan.incidents, lane.id);
  const silenced = silencedAt(plan.incidents, lane.source);
  let seq = 0;
  let bidIds = 0;
  const nextBidId = () => `${plan.sale}:${lane.id}:b${++bidIds}`;
  const stamp = (body: LaneEventBody): LaneEvent | undefined => {
    seq++;
    if (silenced(body.ts)) return undefined;
    const { sale, auction } = plan;
    return { id: `${sale}:${lane.id}:${seq}`, source: lane.source, auction, sale, lane: lane.id, seq, ...body };
  };

  let vehicles = 0;
  const reruns: Rerun[] = [];
  const later: LaneEventBody[] = [];
  let relieved = lane.relief === undefined;
  let nextUp = lane.opensAt + Math.round(runsRng.uniform(20, 60) * SECOND);
  let lastOutcome = lane.opensAt;

  /** The next run's events, or undefined once the lane has put up its last vehicle. */
  const nextRun = (): LaneEventBody[] | undefined => {
    let ts = nextUp;
    if (ts > lane.lastUpBy) return undefined;
    const rerun = reruns[0] !== undefined && reruns[0].after <= vehicles ? reruns[0] : undefined;
    const vehicle = rerun?.vehicle ?? drawVehicle(runsRng, plan.year);
    const run = rerun?.run ?? vehicles + 1;
    const simulate = (at: number): RunResult => {
      const clerk = lane.relief !== undefined && at >= lane.relief.at ? lane.relief.clerk : lane.clerk;
      const audience = expectedOnline(plan, lane, at) / lane.level;
      const input = { run, vehicle, rerun: rerun !== undefined, ts: at, auctioneer: lane.auctioneer, clerk, audience };
      return simulateRun(runsRng, lane, input, nextBidId);
    };
    let result = simulate(ts);
    if (stall !== undefined && ts < stall.to && result.end > stall.from) {
      // The lane stalls: no vehicle is on the block at any moment of the window.
      ts = stall.to;
      result = simulate(ts);
    }
    if (result.end > plan.end - CLOSING_MARGIN) return undefined;

    if (rerun !== undefined) reruns.shift();
    else vehicles = run;
    if (result.passed && rerun === undefined && runsRng.chance(RERUN_CHANCE)) {
      const floor = Math.round((vehicle.floor * 0.95) / 100) * 100;
      reruns.push({ run, vehicle: { ...vehicle, floor }, after: vehicles + runsRng.int(3, 8) });
    }
    for (const event of result.later) insertByTs(later, event);
    nextUp = result.end + Math.round(runsRng.uniform(2, 6) * SECOND);
    lastOutcome = result.end;
    if (!relieved && lane.relief !== undefined && ts >= lane.relief.at) {
      relieved = true;
      return [{ type: 'lane.staff', ts, clerk: lane.relief.clerk.name }, ...result.events];
    }
    return result.events;
  };

  const opened = stamp({
    type: 'lane.opened',
    ts: lane.opensAt,
    auctioneer: lane.auctioneer.name,
    clerk: lane.clerk.name,
  });
  if (opened !== undefined) yield opened;

  let run = nextRun();
  let runAt = 0;
  let closesAt = Number.POSITIVE_INFINITY;
  let nextAttendance = lane.opensAt;
  let nextStream = lane.opensAt;
  for (;;) {
    if (run !== undefined && runAt === run.length) {
      run = nextRun();
      runAt = 0;
    }
    if (run === undefined && closesAt === Number.POSITIVE_INFINITY) {
      const linger = Math.round(runsRng.uniform(10, 60) * SECOND);
      closesAt = Math.min(lastOutcome + linger, plan.end - SECOND);
    }
    // Ties go to the run, then answers, attendance, stream: a fixed order keeps output deterministic.
    let from: 'run' | 'later' | 'attendance' | 'stream' | undefined;
    let next = closesAt;
    const head = run?.[runAt];
    if (head !== undefined) {
      from = 'run';
      next = head.ts;
    }
    const pending = later[0];
    if (pending !== undefined && pending.ts < next) {
      from = 'later';
      next = pending.ts;
    }
    if (nextAttendance < next) {
      from = 'attendance';
      next = nextAttendance;
    }
    if (nextStream < next) from = 'stream';

    let body: LaneEventBody;
    if (from === 'run') body = run?.[runAt++] as LaneEventBody;
    else if (from === 'later') body = later.shift() as LaneEventBody;
    else if (from === 'attendance') {
      body = sampleAttendance(audienceRng, plan, lane, nextAttendance);
      nextAttendance += ATTENDANCE_EVERY;
    } else if (from === 'stream') {
      body = sampleStream(audienceRng, plan, lane, nextStream);
      nextStream += STREAM_EVERY;
    } else break;
    const event = stamp(body);
    if (event !== undefined) yield event;
  }
  const clerk = lane.relief !== undefined && relieved ? lane.relief.clerk : lane.clerk;
  const closed = stamp({ type: 'lane.closed', ts: closesAt, auctioneer: lane.auctioneer.name, clerk: clerk.name });
  if (closed !== undefined) yield closed;
}

/** Keeps `queue` sorted by ts; equal ts keep insertion order. */
function insertByTs(queue: LaneEventBody[], event: LaneEventBody): void {
  let i = queue.length;
  while (i > 0 && (queue[i - 1] as LaneEventBody).ts > event.ts) i--;
  queue.splice(i, 0, event);
}

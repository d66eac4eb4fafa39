import { describe, expect, it } from 'vitest';
import { simulateSale } from '../collector/sources/simulator';
import { DEFAULT_ALERT_CONFIG } from '../alerts/config';
import { saleSample } from '../alerts/samples';
import { advance, createEngine, ingest } from '../server/metrics/engine';
import { laneFigures } from '../server/metrics/snapshot';

describe('alert samples from the metrics engine', () => {
  it('agree with the lane figures the screens show, every 5 min of a simulated sale', () => {
    const sale = simulateSale({
      seed: 4,
      lanes: 4,
      durationMin: 60,
      speed: 0,
      auction: 'dallas',
      start: Date.UTC(2026, 0, 6, 14, 0),
    });
    const engine = createEngine();
    const events = sale.events();
    let next = events.next();
    let compared = 0;
    for (let now = sale.start + 300_000; now <= sale.end; now += 300_000) {
      for (; !next.done && next.value.ts <= now; next = events.next()) ingest(engine, next.value);
      advance(engine, () => now);
      const state = engine.sales.get(sale.sale);
      if (!state) throw new Error('sale not seen');
      const sample = saleSample(state, now, DEFAULT_ALERT_CONFIG);
      for (const lane of sample.lanes) {
        const engineLane = state.lanes.get(lane.lane);
        if (!engineLane) throw new Error(`lane ${lane.lane} not in the engine`);
        const figures = laneFigures(engineLane, state, now);
        expect(lane).toMatchObject({
          onlineBidders: figures.onlineBidders,
          streamLatencyMs: figures.streamLatencyMs,
          feedGaps: figures.feedGaps,
          auctioneer: figures.auctioneer,
          clerk: figures.clerk,
          secondsPerVehicle: figures.secondsPerVehicle,
          hammerLeadSec: figures.hammerLeadSec,
          clerkLatencyP95Ms: figures.clerkLatencyMs.p95,
          missedOnlineBidsLast10Min: figures.missedOnlineBids.last10Min,
          offered: figures.offered,
          noSale: figures.noSale,
          open: figures.state === 'open',
          runUpAt: figures.run?.upAt ?? null,
        });
        expect(lane.readings.at(-1)?.online).toBe(figures.onlineBidders);
        expect(lane.readings.every((r) => r.ts > now - 60_000 && r.ts <= now)).toBe(true);
        compared++;
      }
      const sources = new Set(sample.lanes.map((lane) => lane.source));
      expect(sample.sources.map((s) => s.source).sort()).toEqual([...sources].sort());
    }
    expect(compared).toBe(4 * 12);
  });
});

/**
 * Engine checkpoints: an engine serialized mid-sale, restored and fed the rest ends exactly where
 * an uninterrupted one does — figures, summaries and the whole state.
 */
import { describe, expect, it } from 'vitest';
import type { LaneEvent } from '../collector/events';
import { simulateSale } from '../collector/sources/simulator';
import { createEngine, flush, ingest, type EngineState } from '../server/metrics/engine';
import { ENGINE_CHECKPOINT_VERSION, restoreEngine, serializeEngine } from '../server/metrics/persist';
import { saleLanes } from '../server/metrics/snapshot';
import { saleSummary, siteSummary } from '../server/metrics/summary';
import { script } from './helpers/script';

const sale = simulateSale({
  seed: 3,
  lanes: 8,
  durationMin: 240,
  speed: 0,
  auction: 'persist',
  start: Date.UTC(2026, 10, 24, 14, 0),
});

/**
 * The sale as a real feed delivers it: every 7th event swapped with the next when that is within
 * the 2 s window, and every 5000th held back 40 events — later than the window allows.
 */
function deliveredEvents(): LaneEvent[] {
  const events = [...sale.events()];
  for (let i = 0; i + 1 < events.length; i += 7) {
    const [a, b] = [events[i] as LaneEvent, events[i + 1] as LaneEvent];
    if (b.ts - a.ts <= 1500) [events[i], events[i + 1]] = [b, a];
  }
  for (let i = 5000; i + 40 < events.length; i += 5000) events.splice(i + 40, 0, ...events.splice(i, 1));
  return events;
}

function feed(engine: EngineState, events: readonly LaneEvent[]): EngineState {
  for (const event of events) ingest(engine, event);
  return engine;
}

function figures(engine: EngineState) {
  const state = engine.sales.get(sale.sale);
  if (!state) throw new Error('the engine saw no sale');
  const now = state.latestTs + 5000;
  return {
    lanes: saleLanes(state, now),
    summary: saleSummary(state, now),
    site: siteSummary(sale.auction, [state], () => now),
  };
}

describe('engine checkpoints', () => {
  const events = deliveredEvents();
  const uninterrupted = feed(createEngine(), events);
  flush(uninterrupted);

  it('restores mid-sale and ends where an uninterrupted run ends', () => {
    const cuts = [0.2, 0.5, 0.8].map((share) => Math.floor(events.length * share));
    let engine = createEngine();
    let from = 0;
    for (const cut of cuts) {
      feed(engine, events.slice(from, cut));
      engine = restoreEngine(serializeEngine(engine));
      from = cut;
    }
    feed(engine, events.slice(from));
    flush(engine);

    const expected = figures(uninterrupted);
    expect(expected.summary.offered).toBeGreaterThan(1000);
    expect(expected.summary.lateEvents).toBeGreaterThan(0);
    expect(expected.summary.clerks.length).toBeGreaterThan(8); // a relief clerk took over a lane
    expect(figures(engine)).toEqual(expected);
    expect(serializeEngine(engine)).toBe(serializeEngine(uninterrupted));
  });

  it('keeps events held in the reorder buffer across a restore', () => {
    const engine = feed(createEngine(), events.slice(0, 1000));
    const restored = restoreEngine(serializeEngine(engine));
    const held = (state: EngineState) => state.sales.get(sale.sale)?.pending.toData().events.length;
    expect(held(engine)).toBeGreaterThan(0);
    expect(held(restored)).toBe(held(engine));
  });

  it('remembers the events it has seen, so a resend after a restore is still dropped', () => {
    const engine = restoreEngine(serializeEngine(feed(createEngine(), events.slice(0, 100))));
    expect(ingest(engine, events[99] as LaneEvent)).toBe(false);
    expect(ingest(engine, events[100] as LaneEvent)).toBe(true);
  });

  it('refuses a checkpoint of another version, saying so', () => {
    const text = serializeEngine(feed(createEngine(), script().at(0).opened().events));
    const older = text.replace(`"version":${ENGINE_CHECKPOINT_VERSION}`, '"version":0');
    expect(() => restoreEngine(older)).toThrow(
      `engine checkpoint version 0 does not match this build's version ${ENGINE_CHECKPOINT_VERSION}`,
    );
  });

  it('refuses to checkpoint a state holding a type it cannot restore', () => {
    const engine = feed(createEngine(), script().at(0).opened().events);
    (engine as unknown as { extra: Date }).extra = new Date(0);
    expect(() => serializeEngine(engine)).toThrow('cannot checkpoint an instance of Date');
  });
});

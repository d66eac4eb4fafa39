/**
 * The collector's Prometheus metrics. Counters are read from the pipeline's own counts when
 * scraped — one source of truth, nothing counted twice on the hot path; only the write-latency
 * histogram is observed as writes happen.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Pipeline, SinkCounters, SourceCounters } from './pipeline';

/** Distinct rejection reasons kept as label values; past it they count as `other`. */
const MAX_REASONS = 100;

export interface CollectorMetrics {
  registry: Registry;
  observeWrite(sink: string, seconds: number): void;
  /** Reads the pipeline's counts at every scrape. */
  watch(pipeline: Pipeline): void;
}

export function createCollectorMetrics(): CollectorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'lanewatch_collector_' });
  let pipeline: Pipeline | undefined;
  const sources = () => Object.entries(pipeline?.stats().sources ?? {});
  const sinks = () => Object.entries(pipeline?.stats().sinks ?? {});

  const perSource = (name: string, help: string, pick: (c: SourceCounters) => number) =>
    new Counter({
      name: `lanewatch_collector_${name}_total`,
      help,
      labelNames: ['source'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [source, counters] of sources()) this.inc({ source }, pick(counters));
      },
    });
  const perSink = (name: string, help: string, pick: (c: SinkCounters) => number) =>
    new Counter({
      name: `lanewatch_collector_${name}_total`,
      help,
      labelNames: ['sink'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [sink, counters] of sinks()) this.inc({ sink }, pick(counters));
      },
    });

  perSource('received', 'Raw messages received from the feed', (c) => c.received);
  perSource('accepted', 'Events that passed the contract and were new', (c) => c.accepted);
  perSource('duplicates', 'Events dropped because their id was already seen', (c) => c.duplicates);
  perSource('gaps', 'Messages lost according to seq jumps', (c) => c.gaps);
  new Counter({
    name: 'lanewatch_collector_rejected_total',
    help: 'Messages or events rejected, by the field that was wrong',
    labelNames: ['source', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [source, counters] of sources()) {
        const reasons = Object.entries(counters.rejectedBy);
        reasons.forEach(([reason, n], i) => this.inc({ source, reason: i < MAX_REASONS ? reason : 'other' }, n));
      }
    },
  });
  perSink('written', 'Events the store acknowledged', (c) => c.written);
  perSink('spooled', 'Events that went through the disk spool while the store was unreachable', (c) => c.spooled);
  perSink('refused', 'Events the store refused for their content (dead-lettered)', (c) => c.refused);
  perSink('dropped', 'Events pushed out of a full spool', (c) => c.spoolDropped);
  perSink('write_failures', 'Failed write attempts', (c) => c.failures);
  new Gauge({
    name: 'lanewatch_collector_spool_bytes',
    help: 'Bytes waiting in the disk spool',
    labelNames: ['sink'],
    registers: [registry],
    collect() {
      for (const [sink, counters] of sinks()) this.set({ sink }, counters.spoolPendingBytes);
    },
  });
  const writeLatency = new Histogram({
    name: 'lanewatch_collector_write_seconds',
    help: 'Time for one batch write the store acknowledged',
    labelNames: ['sink'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });

  return {
    registry,
    observeWrite: (sink, seconds) => writeLatency.observe({ sink }, seconds),
    watch: (watched) => (pipeline = watched),
  };
}

/**
 * The source registry: one line per kind of source, checked by the compiler against the config's
 * source types. Adding a platform means a mapping file, or a new Source here — nothing else.
 */
import type { Logger } from 'pino';
import type { SimulatorConfig, SourceConfig } from '../../config';
import type { Feed } from '../collector';
import { loadMapping } from '../mapping';
import { contractEvents, type Normalizer } from '../normalize';
import { ReplaySource } from './replay';
import { SimulatorSource, simulateSale } from './simulator';
import type { WebhookSource } from './webhook';
import { WebsocketSource } from './websocket';

export interface SourceContext {
  simulator: SimulatorConfig;
  log: Logger;
}

/** A configured source is either pulled (a Feed) or pushed to the collector's HTTP port (a webhook). */
export type BuiltSource = { feed: Feed } | { webhook: WebhookSource };

type Factories = {
  [K in SourceConfig['type']]: (config: Extract<SourceConfig, { type: K }>, context: SourceContext) => BuiltSource;
};

const factories = {
  simulator: (_config, { simulator, log }) => {
    const sale = simulateSale(simulator);
    log.info(
      { sale: sale.sale, lanes: sale.lanes.length, speed: simulator.speed, incidents: sale.incidents },
      'simulating a sale',
    );
    return { feed: { source: new SimulatorSource(sale, simulator.speed) } };
  },
  websocket: (config, { log }) => ({
    feed: {
      source: new WebsocketSource(config, log.child({ source: config.name })),
      normalizer: normalizerFor(config),
    },
  }),
  webhook: (config) => ({ webhook: { name: config.name, auth: config.auth, normalizer: normalizerFor(config) } }),
  replay: (config) => {
    const normalizer = normalizerFor(config);
    const source = new ReplaySource({
      name: config.name,
      file: config.file,
      speed: config.speed,
      from: config.from === undefined ? undefined : Date.parse(config.from),
      to: config.to === undefined ? undefined : Date.parse(config.to),
      timeOf: (message) => eventTimeOf(normalizer, message),
    });
    return { feed: { source, normalizer } };
  },
} satisfies Factories;

export function buildSources(
  configs: readonly SourceConfig[],
  context: SourceContext,
): { feeds: Feed[]; webhooks: WebhookSource[] } {
  const built = configs.map((config) =>
    (factories[config.type] as Factories[typeof config.type])(config as never, context),
  );
  return {
    feeds: built.flatMap((b) => ('feed' in b ? [b.feed] : [])),
    webhooks: built.flatMap((b) => ('webhook' in b ? [b.webhook] : [])),
  };
}

function normalizerFor(config: { name: string; mapping?: string | undefined }): Normalizer {
  return config.mapping === undefined ? contractEvents : loadMapping(config.mapping, { source: config.name });
}

/** The event time of the first event a raw message maps to, for pacing a replay. */
export function eventTimeOf(normalizer: Normalizer, message: unknown): number | undefined {
  const result = normalizer.normalize(message);
  const first = result.ok ? result.events[0] : undefined;
  const ts = typeof first === 'object' && first !== null ? (first as { ts?: unknown }).ts : undefined;
  return typeof ts === 'number' ? ts : undefined;
}

/**
 * The notifier registry: one line per kind of channel, checked by the compiler against the
 * config's channel types. Adding a kind of channel means a Notifier here — nothing else.
 */
import type { ChannelConfig, NotifyConfig } from '../../config';
import type { Notifier } from './notifier';
import type { PushStore } from './push-store';
import { WebhookNotifier } from './webhook';
import { WebPushNotifier } from './webpush';

export interface NotifierContext {
  /** VAPID keys and subscriptions, shared with the push routes. */
  push: PushStore;
}

type Factories = {
  [K in ChannelConfig['type']]: (config: Extract<ChannelConfig, { type: K }>, context: NotifierContext) => Notifier;
};

const factories = {
  webpush: (config, { push }) => new WebPushNotifier(config, push),
  webhook: (config) => new WebhookNotifier(config),
} satisfies Factories;

/** Who hears first, and who hears when nobody acknowledged in time. */
export interface Audiences {
  primary: Notifier[];
  escalation: Notifier[];
}

export function buildNotifiers(config: NotifyConfig, context: NotifierContext): Audiences {
  const names = new Set<string>();
  const audiences: Audiences = { primary: [], escalation: [] };
  for (const channel of config.channels) {
    if (names.has(channel.name)) throw new Error(`notify channel ${channel.name} is configured twice`);
    names.add(channel.name);
    const notifier = (factories[channel.type] as Factories[typeof channel.type])(channel as never, context);
    const escalation = config.escalation?.channels.includes(channel.name) ?? false;
    audiences[escalation ? 'escalation' : 'primary'].push(notifier);
  }
  return audiences;
}

/** NOTIFY_CONFIG: the alert channels and escalation, parsed once, and the notifiers built from them. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config';
import { buildNotifiers } from '../alerts/notify';
import { PushStore } from '../alerts/notify/push-store';
import { connectRedis } from '../storage/redis';
import { isolatedConfig } from './helpers/stores';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lanewatch-notify-'));
const redis = connectRedis(isolatedConfig().redis.url, 'alerts-config-test');
afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await redis.quit();
});

let files = 0;
function notifyConfig(content: unknown, env: Record<string, string> = {}) {
  const file = path.join(dir, `notify-${files++}.json`);
  fs.writeFileSync(file, JSON.stringify(content));
  return loadConfig({ NOTIFY_CONFIG: file, ...env }).notify;
}

const CHANNELS = [
  { type: 'webpush', subject: 'mailto:ops@example.com' },
  { type: 'webhook', name: 'slack', format: 'slack', url: 'env:SLACK_URL' },
  { type: 'webhook', name: 'pager', url: 'env:PAGER_URL' },
];
const ENV = { SLACK_URL: 'https://hooks.slack.com/services/T/B/x', PAGER_URL: 'https://pager.example.com/in' };

describe('NOTIFY_CONFIG', () => {
  it('without it, alerts go to subscribed phones only', () => {
    expect(loadConfig({}).notify).toEqual({
      channels: [{ type: 'webpush', name: 'phones', subject: 'mailto:lanewatch@localhost' }],
      escalation: undefined,
    });
  });

  it('reads channels with their URLs from the environment, and splits first notice from escalation', () => {
    const notify = notifyConfig({ channels: CHANNELS, escalation: { afterMin: 15, channels: ['pager'] } }, ENV);
    expect(notify).toEqual({
      channels: [
        { type: 'webpush', name: 'phones', subject: 'mailto:ops@example.com' },
        { type: 'webhook', name: 'slack', format: 'slack', url: ENV.SLACK_URL },
        { type: 'webhook', name: 'pager', format: 'json', url: ENV.PAGER_URL },
      ],
      escalation: { afterMin: 15, channels: ['pager'] },
    });
    const audiences = buildNotifiers(notify, { push: new PushStore(redis) });
    expect(audiences.primary.map((n) => n.name)).toEqual(['phones', 'slack']);
    expect(audiences.escalation.map((n) => n.name)).toEqual(['pager']);
  });

  it.each([
    [{ channels: CHANNELS }, { PAGER_URL: ENV.PAGER_URL }, 'channels.1.url: SLACK_URL is not set'],
    [{ channels: CHANNELS }, { ...ENV, SLACK_URL: 'ftp://x' }, 'channels.1.url: SLACK_URL is not an http(s) URL'],
    [{ channels: [CHANNELS[0], { ...CHANNELS[1], url: 'https://in.file' }] }, ENV, 'must be env:VARIABLE_NAME'],
    [{ channels: [CHANNELS[1], CHANNELS[1]] }, ENV, 'channels.1.name: slack is used twice'],
    [{ channels: [CHANNELS[0], { ...CHANNELS[0], name: 'more' }] }, ENV, 'at most one webpush channel'],
    [{ channels: [{ type: 'webpush', subject: 'ops@example.com' }] }, {}, 'must be a mailto: or https:// URL'],
    [{ channels: CHANNELS, escalation: { afterMin: 15, channels: ['boss'] } }, ENV, 'no channel named boss'],
    [
      { channels: [CHANNELS[2]], escalation: { afterMin: 15, channels: ['pager'] } },
      ENV,
      'at least one channel must be left for first notices',
    ],
    [{ channels: CHANNELS, escalation: { afterMin: 0, channels: ['pager'] } }, ENV, 'escalation.afterMin'],
  ])('refuses %j, naming the problem', (content, env, problem) => {
    expect(() => notifyConfig(content, env)).toThrow(problem);
  });
});

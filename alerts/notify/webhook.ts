/**
 * A webhook: one POST per message to a configured URL, in Slack's incoming-webhook shape
 * (`{ text, blocks }`, also taken by Mattermost and Rocket.Chat) or as plain JSON. Each request
 * carries `Idempotency-Key: <notification id>` so a receiver can drop the rare repeat (a node that
 * crashed between the receiver's 2xx and recording it).
 */
import type { ChannelConfig } from '../../config';
import { linesOf, titleOf } from './message';
import { deliveryErrorFor, networkError, type AlertNotification, type Notifier, type SendContext } from './notifier';

/** A webhook message older than this is dropped: by then the 10-minute reminder says it again. */
const DELIVER_WITHIN_MS = 10 * 60_000;
/** Slack's limits: 150 characters in a header, 3000 in a section's text. */
const SLACK_HEADER_MAX = 150;
const SLACK_SECTION_MAX = 3000;

type WebhookConfig = Extract<ChannelConfig, { type: 'webhook' }>;

export class WebhookNotifier implements Notifier {
  readonly name: string;
  readonly deliverWithinMs = DELIVER_WITHIN_MS;

  constructor(private readonly config: Pick<WebhookConfig, 'name' | 'url' | 'format'>) {
    this.name = config.name;
  }

  /** A webhook is one recipient: itself. */
  recipients(): Promise<string[]> {
    return Promise.resolve([this.name]);
  }

  async send(notification: AlertNotification, _recipient: string, { signal }: SendContext): Promise<void> {
    const body = this.config.format === 'slack' ? slackBody(notification) : jsonBody(notification);
    let response: Response;
    try {
      response = await fetch(this.config.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': notification.id, 'user-agent': 'lanewatch' },
        body: JSON.stringify(body),
        signal,
      });
      await response.arrayBuffer();
    } catch (error) {
      throw networkError(error, `webhook ${this.name}`);
    }
    const error = deliveryErrorFor(response.status, response.headers, `webhook ${this.name}`);
    if (error) throw error;
  }
}

/** The generic format: the notification as the dispatcher composed it, plus its words. */
export function jsonBody(notification: AlertNotification): object {
  return { ...notification, title: titleOf(notification), text: linesOf(notification).join('\n') };
}

/** Slack: `text` is the fallback shown in notifications; `blocks` lay the same out in the channel. */
export function slackBody(notification: AlertNotification): { text: string; blocks: object[] } {
  const title = titleOf(notification);
  const lines = linesOf(notification).map(escapeSlack);
  return {
    text: `${escapeSlack(title)}\n${lines.join('\n')}`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: truncate(title, SLACK_HEADER_MAX) } },
      { type: 'section', text: { type: 'mrkdwn', text: truncate(lines.join('\n'), SLACK_SECTION_MAX) } },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: escapeSlack(`${notification.severity} · ${notification.auction} · sale ${notification.sale}`),
          },
        ],
      },
    ],
  };
}

// Slack's mrkdwn treats these three as control characters.
function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

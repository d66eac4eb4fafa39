/**
 * How the collector's sources are doing, as the collector last published it: one Redis hash
 * `<stream>:sources`, one field per source name, its value a JSON `SourceStatus`. The collector
 * rewrites its sources' fields every few seconds (collector/source-status.ts); the server shows
 * them to admins (server/routes/sources.ts). Defined here because both read it, and neither
 * imports the other's internals.
 */
import { z } from 'zod';

export function sourceStatusKey(stream: string): string {
  return `${stream}:sources`;
}

const count = z.int().min(0);
const ms = z.int().min(0);

export const sourceStatusSchema = z.object({
  name: z.string().min(1),
  /**
   * The source's `type` in the collector config. Any word: a newer collector may have a kind this
   * server does not know yet, and should still be shown.
   */
  kind: z.string().min(1),
  /** The collector process that published this. */
  collector: z.object({ host: z.string(), pid: z.int() }),
  counters: z.object({ received: count, accepted: count, duplicates: count, gaps: count, rejected: count }),
  /** The commonest rejection reasons (the field that was wrong), most first. */
  topRejections: z.array(z.object({ reason: z.string(), count })),
  /** ms since the epoch, null until the first message (or the first accepted event). */
  lastMessageAt: ms.nullable(),
  lastAcceptedAt: ms.nullable(),
  /** The source's newest dead letters, newest first, each text cut short. */
  deadLetters: z.array(z.object({ at: ms, reason: z.string(), excerpt: z.string() })),
  publishedAt: ms,
  /** How often the collector publishes: a reader tells a stopped collector by this, not its own config. */
  publishEveryMs: z.number().positive(),
});

export type SourceStatus = z.infer<typeof sourceStatusSchema>;

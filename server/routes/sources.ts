/**
 * `GET /api/admin/sources` (admins only; server/app.ts guards it): the collector's sources as the
 * collector last published them (storage/source-status.ts), each with a word for how it is doing.
 * An entry that cannot be read is left out and named in `errors`: one bad entry never hides the rest.
 */
import { Router } from 'express';
import { sourceStatusSchema, type SourceStatus } from '../../storage/source-status';

/** A source with no message for this long is quiet: its feed, or the platform behind it, went silent. */
const QUIET_AFTER_MS = 60_000;
/** Publishes missed before a source is stale: its collector stopped, or lost Redis. */
const STALE_AFTER_PUBLISHES = 3;

export interface SourceView extends SourceStatus {
  stale: boolean;
  /** `receiving`: a message in the last minute; `quiet`: none for a minute; `stale`: no news of it. */
  status: 'receiving' | 'quiet' | 'stale';
}

export interface AdminSources {
  /** By name. */
  sources: SourceView[];
  /** One line per entry left out, naming it and what is wrong with it. */
  errors: string[];
}

/** `readStatuses` gives the hash as it is: source name → JSON. */
export function sourceRoutes(readStatuses: () => Promise<Record<string, string>>): Router {
  const router = Router();
  router.get('/admin/sources', async (_req, res) => {
    res.json(sourcesView(await readStatuses(), Date.now()));
  });
  return router;
}

/** The hash's entries as the admin sees them at `now` (ms). */
export function sourcesView(entries: Readonly<Record<string, string>>, now: number): AdminSources {
  const sources: SourceView[] = [];
  const errors: string[] = [];
  for (const [field, json] of Object.entries(entries)) {
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch {
      errors.push(`${JSON.stringify(field)}: not JSON`);
      continue;
    }
    const parsed = sourceStatusSchema.safeParse(value);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'entry'}: ${i.message}`);
      errors.push(`${JSON.stringify(field)}: ${problems.join('; ')}`);
      continue;
    }
    sources.push(viewOf(parsed.data, now));
  }
  sources.sort((a, b) => a.name.localeCompare(b.name));
  return { sources, errors };
}

function viewOf(status: SourceStatus, now: number): SourceView {
  // Against the server's clock: this assumes the two machines' clocks agree within a few seconds (NTP).
  const stale = now - status.publishedAt > STALE_AFTER_PUBLISHES * status.publishEveryMs;
  // Both times are the collector's clock: no skew between machines in this one.
  const receiving = status.lastMessageAt !== null && status.publishedAt - status.lastMessageAt < QUIET_AFTER_MS;
  return { ...status, stale, status: stale ? 'stale' : receiving ? 'receiving' : 'quiet' };
}

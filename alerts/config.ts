/**
 * Alert thresholds: one validated document (defaults in ./rules.json, see ../shared/METRICS.md
 * §Alerts). Managers will change it through the API, so validation takes any JSON value, names
 * every bad key, and also checks a partial update merged onto the current document.
 */
import fs from 'node:fs';
import { z } from 'zod';
import defaults from './rules.json' with { type: 'json' };

const seconds = z.number().min(0).max(86_400);
const positive = z.number().positive();
const percent = z.number().gt(0).lt(100);
const count = z.number().int().min(1);
/** How long a condition must hold before firing, and its clear condition before resolving. */
const timing = { holdSec: seconds, clearSec: seconds };

const declineThresholds = z.strictObject({
  /** A decline needs all three: the drop is ≥ dropPct of the baseline, … */
  dropPct: percent,
  /** … ≥ max(minDrop, noiseSigmas·√baseline) bidders (Poisson noise), … */
  minDrop: z.number().min(0),
  noiseSigmas: z.number().min(0),
  /** … and the baseline is at least this many bidders. */
  minBaseline: z.number().min(0),
  /** Back within this share of the baseline counts as recovered. */
  clearWithinPct: percent,
  ...timing,
});

const schema = z.strictObject({
  /** A lane's rules wait until it has been open this long and given this many attendance samples. */
  warmup: z.strictObject({ minutes: z.number().min(0), samples: z.number().int().min(0) }),
  /** A key whose state flipped in ≥ flipsToEnter of its last `evaluations` evaluations is flapping. */
  flapping: z.strictObject({
    evaluations: z.number().int().min(2).max(31),
    flipsToEnter: count,
    flipsToLeave: z.number().int().min(0),
  }),
  'attendance.decline': z.strictObject({
    lane: declineThresholds,
    sale: declineThresholds,
    baseline: z.strictObject({
      /** Weight of each closed minute in the lane's recent level. */
      ewmaLambda: z.number().gt(0).max(1),
      /** The recovered test reads the mean of this many seconds of samples. */
      clearLevelSec: positive,
    }),
    cusum: z.strictObject({
      /** Allowance k per closed minute, in standard deviations of its mean: smaller drifts are ignored. */
      slack: z.number().min(0),
      /** Decision interval h: the sum at which a slow bleed is a decline. */
      threshold: positive,
      /** Above this sum the baseline stops learning, so a bleed is not learned as normal. */
      freezeAbove: z.number().min(0),
      /** The baseline's own error, in % of it, added to the Poisson noise of a minute's mean. */
      modelErrorPct: z.number().min(0).max(50),
    }),
    fastPath: z.strictObject({ dropPct: percent, fromAtLeast: z.number().min(0), holdSec: seconds }),
  }),
  'feed.stale': z.strictObject({
    minSec: positive,
    gapMultiple: positive,
    gapPercentile: z.number().gt(0).max(100),
    gapsKept: count.max(1000),
    ...timing,
  }),
  'lane.stalled': z.strictObject({ minIdleSec: positive, runTimeMultiple: positive, maxRunSec: positive, ...timing }),
  'clerk.slow': z.strictObject({ fireP95Ms: positive, clearP95Ms: positive, minBids: count, ...timing }),
  /** Over the engine's `missedOnlineBids.last10Min`; it clears when that is 0. */
  'bids.missed': z.strictObject({ fireCount: count, ...timing }),
  'pace.fast': z.strictObject({
    fireLeadSec: positive,
    fireSecondsPerVehicle: positive,
    minOnline: z.number().min(0),
    clearLeadSec: positive,
    clearSecondsPerVehicle: positive,
    ...timing,
  }),
  'stream.lagging': z.strictObject({ fireMs: positive, clearMs: positive, ...timing }),
  'online.silent': z.strictObject({ minOnline: z.number().min(0), runs: count, ...timing }),
  causes: z.strictObject({
    /** How far back before a decline a cause still counts. */
    windowMin: positive,
    /** Another lane counts as falling when it is this much below where it was at the window's start. */
    laneFallPct: percent,
    /** At least this share of the other lanes falling = a sale-wide trend. */
    saleWideShare: z.number().gt(0).max(1),
    noSaleRun: count,
  }),
});

export type AlertConfig = z.infer<typeof schema>;

/** What one key cannot say alone: every clear threshold on the calm side of its fire threshold. */
function crossFieldErrors(config: AlertConfig): string[] {
  const errors: string[] = [];
  const check = (ok: boolean, key: string, message: string) => {
    if (!ok) errors.push(`${key}: ${message}`);
  };
  const { flapping } = config;
  check(
    flapping.flipsToLeave < flapping.flipsToEnter,
    'flapping.flipsToLeave',
    `must be below flipsToEnter (${flapping.flipsToEnter})`,
  );
  check(
    flapping.flipsToEnter <= flapping.evaluations,
    'flapping.flipsToEnter',
    `must be at most evaluations (${flapping.evaluations})`,
  );
  const decline = config['attendance.decline'];
  for (const scope of ['lane', 'sale'] as const) {
    const d = decline[scope];
    check(
      d.clearWithinPct < d.dropPct,
      `attendance.decline.${scope}.clearWithinPct`,
      `must be below dropPct (${d.dropPct})`,
    );
  }
  const { cusum } = decline;
  check(
    cusum.freezeAbove < cusum.threshold,
    'attendance.decline.cusum.freezeAbove',
    `must be below threshold (${cusum.threshold})`,
  );
  const clerk = config['clerk.slow'];
  check(clerk.clearP95Ms < clerk.fireP95Ms, 'clerk.slow.clearP95Ms', `must be below fireP95Ms (${clerk.fireP95Ms})`);
  const stream = config['stream.lagging'];
  check(stream.clearMs < stream.fireMs, 'stream.lagging.clearMs', `must be below fireMs (${stream.fireMs})`);
  const pace = config['pace.fast'];
  check(
    pace.clearLeadSec >= pace.fireLeadSec,
    'pace.fast.clearLeadSec',
    `must be at least fireLeadSec (${pace.fireLeadSec})`,
  );
  check(
    pace.clearSecondsPerVehicle >= pace.fireSecondsPerVehicle,
    'pace.fast.clearSecondsPerVehicle',
    `must be at least fireSecondsPerVehicle (${pace.fireSecondsPerVehicle})`,
  );
  return errors;
}

export type ConfigCheck = { ok: true; config: AlertConfig } | { ok: false; errors: string[] };

export class AlertConfigError extends Error {
  override name = 'AlertConfigError';
}

/** Checks any value against the schema; each error names its key, e.g. `clerk.slow.clearP95Ms: …`. */
export function validateAlertConfig(value: unknown): ConfigCheck {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map(
        (issue) => `${issue.path.map(String).join('.') || '(document)'}: ${issue.message}`,
      ),
    };
  }
  const errors = crossFieldErrors(parsed.data);
  return errors.length === 0 ? { ok: true, config: parsed.data } : { ok: false, errors };
}

/**
 * A partial update (as the API receives it) merged onto `current`, then checked as a whole: a
 * patch can neither add unknown keys nor leave a clear threshold on the wrong side of its fire one.
 */
export function mergeAlertConfig(current: AlertConfig, patch: unknown): ConfigCheck {
  if (!isPlainObject(patch)) return { ok: false, errors: ['(patch): must be an object'] };
  return validateAlertConfig(deepMerge(current, patch));
}

/** Reads and checks a rules file; throws an AlertConfigError listing every bad key. */
export function loadAlertConfig(path: string): AlertConfig {
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(path, 'utf8'));
  } catch (error) {
    throw new AlertConfigError(`cannot read alert rules from ${path}`, { cause: error });
  }
  const check = validateAlertConfig(value);
  if (!check.ok) throw new AlertConfigError(`invalid alert rules in ${path} — ${check.errors.join('; ')}`);
  return check.config;
}

/** The shipped defaults (./rules.json). */
export const DEFAULT_ALERT_CONFIG: AlertConfig = (() => {
  const check = validateAlertConfig(defaults);
  if (!check.ok) throw new AlertConfigError(`invalid alerts/rules.json — ${check.errors.join('; ')}`);
  return check.config;
})();

function deepMerge(base: unknown, patch: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = isPlainObject(base) ? { ...base } : {};
  for (const [key, value] of Object.entries(patch)) {
    merged[key] = isPlainObject(value) && isPlainObject(merged[key]) ? deepMerge(merged[key], value) : value;
  }
  return merged;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

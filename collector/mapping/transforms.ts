/**
 * The value transforms a mapping file may name. Each takes one value from a platform message and
 * returns the contract value, or an `Invalid` saying what the value was and why it does not fit.
 * They run on every message, so they return a reason instead of throwing.
 */

/** A value a transform could not accept; the compiled rule prefixes the rule and field names. */
export class Invalid {
  constructor(readonly reason: string) {}
}

export type Transform = (value: unknown) => unknown;
export type Scalar = string | number | boolean;

const DOLLARS = /^\$?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$/;
const DIGITS = /^-?\d+$/;
const DECIMAL = /^\d+(?:\.\d+)?$/;
// RFC 3339 with an optional seconds part; the offset is required, as a time without one would be
// read in the collector's own zone, hours away from the auction's.
const ISO_TIME =
  /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])[Tt ](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?(?:[Zz]|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;
const BOOLEANS = new Map<string, boolean>([
  ['true', true],
  ['false', false],
  ['yes', true],
  ['no', false],
  ['y', true],
  ['n', false],
  ['1', true],
  ['0', false],
]);

/** Epoch ms of an RFC 3339 time with a UTC offset, or undefined if `text` is not one. */
export function parseTime(text: string): number | undefined {
  if (!ISO_TIME.test(text)) return undefined;
  const day = Number(text.slice(8, 10));
  // Date.parse would roll 2024-02-30 over into March instead of refusing it.
  if (day > 28 && day > daysIn(Number(text.slice(0, 4)), Number(text.slice(5, 7)))) return undefined;
  return Date.parse(text.charCodeAt(10) === 32 ? `${text.slice(0, 10)}T${text.slice(11)}` : text);
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysIn(year: number, month: number): number {
  if (month !== 2) return DAYS_IN_MONTH[month - 1] as number;
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
}

export const TRANSFORMS = {
  /** RFC 3339 / ISO 8601 time with offset → epoch ms. */
  ms: (value) =>
    (typeof value === 'string' ? parseTime(value) : undefined) ??
    invalid(value, 'is not an ISO 8601 time with a UTC offset'),
  /** Epoch seconds, fractions allowed → epoch ms. */
  seconds: (value) => {
    const seconds = typeof value === 'string' && DECIMAL.test(value) ? Number(value) : value;
    return typeof seconds === 'number' && Number.isFinite(seconds)
      ? Math.round(seconds * 1000)
      : invalid(value, 'is not a time in epoch seconds');
  },
  /** "$12,350.00", "12350" or 12350.4 → whole dollars, rounded. */
  dollars: (value) => {
    if (typeof value === 'number')
      return Number.isFinite(value) ? Math.round(value) : invalid(value, 'is not a dollar amount');
    if (typeof value !== 'string') return invalid(value, 'is not a dollar amount');
    const text = value.trim();
    return DOLLARS.test(text)
      ? Math.round(Number(text.replace(/[$,]/g, '')))
      : invalid(value, 'is not a dollar amount');
  },
  /** Integer cents → dollars, rounded to the nearest dollar. */
  cents: (value) => {
    const cents = typeof value === 'string' && DIGITS.test(value) ? Number(value) : value;
    return Number.isInteger(cents)
      ? Math.round((cents as number) / 100)
      : invalid(value, 'is not a whole number of cents');
  },
  int: (value) => {
    if (Number.isInteger(value)) return value;
    return typeof value === 'string' && DIGITS.test(value) ? Number(value) : invalid(value, 'is not an integer');
  },
  string: (value) => {
    if (typeof value === 'string') return value;
    return typeof value === 'number' || typeof value === 'boolean'
      ? String(value)
      : invalid(value, 'is not a string or number');
  },
  /** true/false, yes/no, y/n, 1/0, as booleans, numbers or strings in any case. */
  bool: (value) => {
    if (typeof value === 'boolean') return value;
    const known =
      typeof value === 'string' || typeof value === 'number' ? BOOLEANS.get(String(value).toLowerCase()) : undefined;
    return known ?? invalid(value, 'is not a boolean');
  },
  lower: (value) => (typeof value === 'string' ? value.toLowerCase() : invalid(value, 'is not a string')),
  upper: (value) => (typeof value === 'string' ? value.toUpperCase() : invalid(value, 'is not a string')),
} satisfies Record<string, Transform>;

export type TransformName = keyof typeof TRANSFORMS;
export const TRANSFORM_NAMES = Object.keys(TRANSFORMS) as TransformName[];

/** An enum value table, e.g. `{ "I": "online", "F": "floor" }`; a value not in it is refused. */
export function mapTransform(table: Readonly<Record<string, Scalar>>): Transform {
  // A Map, so that a message value like "constructor" finds nothing instead of Object's prototype.
  const entries = new Map(Object.entries(table));
  const known = [...entries.keys()].map((key) => JSON.stringify(key)).join(', ');
  return (value) => {
    const mapped = typeof value === 'object' ? undefined : entries.get(String(value));
    return mapped ?? invalid(value, `is not one of ${known}`);
  };
}

/** Keeps the first capture group of a regular expression, e.g. the year of "2019 Ford F-150". */
export function patternTransform(source: string): Transform {
  const pattern = new RegExp(source);
  return (value) => {
    const captured = typeof value === 'string' ? pattern.exec(value)?.[1] : undefined;
    return captured ?? invalid(value, `does not match /${source}/`);
  };
}

function invalid(value: unknown, why: string): Invalid {
  return new Invalid(`${excerpt(value)} ${why}`);
}

export function excerpt(value: unknown): string {
  const text = value === undefined ? 'undefined' : JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

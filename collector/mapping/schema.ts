/**
 * The mapping file format (README "Feed mappings"), validated once when a mapping is loaded. Errors
 * name the bad key (`rules.2.fields.amount.transform: unknown transform "dolars"`); the output is
 * in one canonical shape (shorthands expanded) so the compiler has a single case for each part.
 */
import { z } from 'zod';
import { EVENT_TYPES, eventSchema, type EventType } from '../events';
import { TRANSFORM_NAMES, type Scalar, type TransformName } from './transforms';

export class MappingError extends Error {
  override name = 'MappingError';
}

export type TransformSpec = TransformName | { map: Record<string, Scalar> } | { pattern: string };

export interface FieldSpec {
  path?: string;
  const?: Scalar;
  template?: string;
  transform: TransformSpec[];
  default?: Scalar;
  optional: boolean;
}

export interface Rule {
  name?: string;
  match: { path: string; equals?: Scalar; in?: Scalar[] };
  ignore?: true;
  type?: EventType | { path: string; map: Record<string, EventType> };
  each?: string;
  fields: Record<string, FieldSpec>;
}

export interface MappingFile {
  description: string;
  envelope: Partial<Record<EnvelopeKey, FieldSpec>>;
  rules: Rule[];
}

const ENVELOPE_KEYS = ['id', 'ts', 'auction', 'sale', 'lane', 'seq'] as const;
type EnvelopeKey = (typeof ENVELOPE_KEYS)[number];
const REQUIRED_KEYS = ['ts', 'auction', 'sale'] as const;

const FIELDS_OF = new Map<string, readonly string[]>(
  eventSchema.options.map((schema) => [
    schema.shape.type.value,
    Object.keys(schema.shape).filter((k) => k !== 'type' && k !== 'source'),
  ]),
);

/** Picks the schema by the JSON type of the value, so a wrong form gets that form's own error. */
function byKind<T>(expected: string, schemas: { string?: z.ZodType<T>; object?: z.ZodType<T>; array?: z.ZodType<T> }) {
  return z.unknown().transform((value, ctx): T => {
    const kind = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
    const schema = schemas[kind as keyof typeof schemas];
    if (schema === undefined) {
      ctx.issues.push({ code: 'custom', message: `must be ${expected}`, input: value });
      return z.NEVER;
    }
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    ctx.issues.push(...(parsed.error.issues as z.core.$ZodRawIssue[]));
    return z.NEVER;
  });
}

const scalar = z.union([z.string(), z.number(), z.boolean()], { error: 'must be a string, number or boolean' });
const path = z
  .string()
  .regex(/^(?:@|[^.@\s][^.\s]*)(?:\.[^.\s]+)*$/, 'must be a dotted path like lot.vehicle.year, bids.0.amount or @.id');
export const PLACEHOLDER = /\{([^{}]*)\}/g;
const template = z.string().superRefine((text, ctx) => {
  const placeholders = [...text.matchAll(PLACEHOLDER)].map((m) => m[1] as string);
  if (placeholders.length === 0) ctx.addIssue({ code: 'custom', message: 'has no {path} placeholder (use const)' });
  for (const p of placeholders) {
    if (!path.safeParse(p).success) ctx.addIssue({ code: 'custom', message: `{${p}} is not a dotted path` });
  }
});
const eventKind = z.string().refine((t) => (EVENT_TYPES as readonly string[]).includes(t), {
  error: (issue) => `unknown event kind ${JSON.stringify(issue.input)}`,
}) as z.ZodType<EventType>;

const transformName = z.string().refine((t) => (TRANSFORM_NAMES as string[]).includes(t), {
  error: (issue) =>
    `unknown transform ${JSON.stringify(issue.input)} (known: ${TRANSFORM_NAMES.join(', ')}, {map}, {pattern})`,
}) as z.ZodType<TransformName>;
const transformObject = z
  .object({
    map: z.record(z.string(), scalar).optional(),
    pattern: z.string().refine(isOneGroupPattern, 'must be a regular expression with one capture group').optional(),
  })
  .strict()
  .refine((t) => (t.map === undefined) !== (t.pattern === undefined), 'must have exactly one of "map", "pattern"')
  .transform((t): TransformSpec => (t.map !== undefined ? { map: t.map } : { pattern: t.pattern as string }));
const transform = byKind<TransformSpec>('a transform name, {"map": {…}} or {"pattern": "…"}', {
  string: transformName,
  object: transformObject,
});

const fieldObject = z
  .object({
    path: path.optional(),
    const: scalar.optional(),
    template: template.optional(),
    transform: byKind<TransformSpec[]>('a transform or a list of them', {
      string: transform.transform((t) => [t]),
      object: transform.transform((t) => [t]),
      array: z.array(transform),
    }).optional(),
    default: scalar.optional(),
    optional: z.boolean().optional(),
  })
  .strict()
  .superRefine((f, ctx) => {
    const sources = [f.path, f.const, f.template].filter((s) => s !== undefined).length;
    if (sources !== 1)
      ctx.addIssue({ code: 'custom', message: 'must have exactly one of "path", "const", "template"' });
    if (f.const !== undefined && (f.transform !== undefined || f.default !== undefined)) {
      ctx.addIssue({ code: 'custom', message: 'a "const" takes no "transform" or "default": write the final value' });
    }
  })
  .transform(({ transform, optional, ...rest }): FieldSpec => ({
    ...rest,
    transform: transform ?? [],
    optional: !!optional,
  }));
const field = byKind<FieldSpec>('a path string or {"path" | "const" | "template", …}', {
  string: path.transform((p): FieldSpec => ({ path: p, transform: [], optional: false })),
  object: fieldObject,
});

const match = z
  .object({ path, equals: scalar.optional(), in: z.array(scalar).min(1).optional() })
  .strict()
  .refine((m) => (m.equals === undefined) !== (m.in === undefined), 'must have exactly one of "equals", "in"');

const rule = z
  .object({
    name: z.string().min(1).optional(),
    match,
    ignore: z.literal(true).optional(),
    type: byKind<Rule['type']>('an event kind or {"path", "map"}', {
      string: eventKind,
      object: z.object({ path, map: z.record(z.string(), eventKind) }).strict(),
    }).optional(),
    each: path.optional(),
    fields: z.record(z.string(), field).default({}),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.ignore && (r.type !== undefined || r.each !== undefined || Object.keys(r.fields).length > 0)) {
      ctx.addIssue({ code: 'custom', message: 'an "ignore" rule takes no "type", "each" or "fields"' });
    }
    if (!r.ignore && r.type === undefined)
      ctx.addIssue({ code: 'custom', message: 'needs a "type" (or "ignore": true)' });
  });

export const mappingSchema = z
  .object({
    description: z.string().min(1, 'must describe the platform and its messages'),
    envelope: z
      .object(Object.fromEntries(ENVELOPE_KEYS.map((k) => [k, field.optional()])))
      .strict()
      .default({}),
    rules: z.array(rule).min(1),
  })
  .strict()
  .superRefine((mapping, ctx) => {
    for (const problem of crossCheck(mapping as MappingFile)) ctx.addIssue({ code: 'custom', ...problem });
  }) as z.ZodType<MappingFile>;

/** What no single part can check alone: a rule against the envelope, the contract, and earlier rules. */
function crossCheck(mapping: MappingFile): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  for (const [key, spec] of Object.entries(mapping.envelope)) {
    if (usesElement(spec))
      problems.push({ path: ['envelope', key], message: '@ names the element of "each": set it in the rule' });
  }
  const taken = new Map<string, Set<unknown>>();
  mapping.rules.forEach((rule, i) => {
    const values = rule.match.in ?? [rule.match.equals];
    const seen = taken.get(rule.match.path) ?? new Set();
    taken.set(rule.match.path, seen);
    if (values.every((v) => seen.has(v)))
      problems.push({ path: ['rules', i, 'match'], message: 'every value is taken by an earlier rule' });
    for (const v of values) seen.add(v);
    if (rule.type === undefined) return;
    const merged: Record<string, FieldSpec | undefined> = { ...mapping.envelope, ...rule.fields };
    for (const key of REQUIRED_KEYS) {
      if (merged[key] === undefined)
        problems.push({ path: ['rules', i], message: `"${key}" is set neither in envelope nor in fields` });
    }
    const kinds = typeof rule.type === 'string' ? [rule.type] : Object.values(rule.type.map);
    const own = [...new Set(kinds.flatMap((k) => FIELDS_OF.get(k) ?? []))].filter(
      (k) => !ENVELOPE_KEYS.includes(k as EnvelopeKey),
    );
    for (const [key, spec] of Object.entries(rule.fields)) {
      const at = ['rules', i, 'fields', key];
      if (key === 'source') {
        problems.push({ path: at, message: 'is the configured source name; a mapping cannot set it' });
      } else if (!own.includes(key) && !ENVELOPE_KEYS.includes(key as EnvelopeKey)) {
        problems.push({ path: at, message: `not a field of ${kinds.join(' / ')} (has: ${own.join(', ')})` });
      }
      if (rule.each === undefined && usesElement(spec)) {
        problems.push({ path: at, message: '@ names the element of "each", and this rule has none' });
      }
    }
  });
  return problems;
}

function usesElement(spec: FieldSpec | undefined): boolean {
  if (spec === undefined) return false;
  const paths = spec.template !== undefined ? [...spec.template.matchAll(PLACEHOLDER)].map((m) => m[1]) : [spec.path];
  return paths.some((p) => p === '@' || p?.startsWith('@.'));
}

function isOneGroupPattern(source: string): boolean {
  try {
    return new RegExp(`${source}|`).exec('')?.length === 2;
  } catch {
    return false;
  }
}

/** Validates a parsed mapping file; `where` names it in the error (a shipped name or a path). */
export function parseMapping(json: unknown, where?: string): MappingFile {
  const parsed = mappingSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) =>
    i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message,
  );
  throw new MappingError(`mapping ${where === undefined ? '' : `${where} `}is invalid — ${problems.join('; ')}`);
}

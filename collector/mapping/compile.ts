/**
 * Turns a validated mapping into a Normalizer. Every path, template, transform chain and rule is
 * compiled into a closure once, and rules are looked up by value in a Map, so a message costs a
 * few property reads and one object per event — no schema work per message.
 */
import { hash } from 'node:crypto';
import type { Normalizer, NormalizeResult } from '../normalize';
import { parseMapping, PLACEHOLDER, type FieldSpec, type MappingFile, type Rule, type TransformSpec } from './schema';
import {
  excerpt,
  Invalid,
  mapTransform,
  patternTransform,
  TRANSFORMS,
  type Scalar,
  type Transform,
} from './transforms';

export interface MappingOptions {
  /** The configured source name; it becomes every event's `source`. */
  source: string;
}

/** Reads a value from the message, or from the current `each` element for `@` paths. */
type Getter = (message: unknown, element: unknown) => unknown;
type Message = Record<string, unknown>;
type CompiledRule = (message: Message) => NormalizeResult;

/** A required value that is absent; `default` and `optional` apply to it, unlike to other Invalids. */
class Missing extends Invalid {}

/**
 * Validates and compiles a mapping (parsed JSON). Throws a MappingError naming the bad key, and the
 * mapping as `where` (a shipped name or a path) if given.
 */
export function compileMapping(json: unknown, options: MappingOptions, where?: string): Normalizer {
  return compile(parseMapping(json, where), options.source);
}

function compile(mapping: MappingFile, source: string): Normalizer {
  // Consecutive rules matching on the same path share one lookup; a value's first rule wins.
  const groups: { path: string; read: Getter; rules: Map<unknown, CompiledRule> }[] = [];
  for (const rule of mapping.rules) {
    let group = groups.at(-1);
    if (group?.path !== rule.match.path) {
      group = { path: rule.match.path, read: compilePath(rule.match.path), rules: new Map() };
      groups.push(group);
    }
    const compiled = compileRule(rule, mapping.envelope, source);
    for (const value of rule.match.in ?? [rule.match.equals]) {
      if (!group.rules.has(value)) group.rules.set(value, compiled);
    }
  }
  const first = groups[0] as (typeof groups)[number];
  return {
    normalize(message) {
      if (typeof message !== 'object' || message === null || Array.isArray(message)) {
        return { ok: false, reason: `message must be a JSON object (got ${kindOf(message)})` };
      }
      for (const group of groups) {
        const rule = group.rules.get(group.read(message, undefined));
        if (rule !== undefined) return rule(message as Message);
      }
      const value = first.read(message, undefined);
      const what = value === undefined ? `a message without ${first.path}` : `${first.path} ${excerpt(value)}`;
      return { ok: false, reason: `no mapping rule for ${what}` };
    },
  };
}

function compileRule(rule: Rule, envelope: MappingFile['envelope'], source: string): CompiledRule {
  if (rule.ignore || rule.type === undefined) return () => ({ ok: true, events: [] });
  const name = rule.name ?? (rule.match.in ?? [rule.match.equals]).join('|');
  const type = compileType(rule.type);
  const specs: Record<string, FieldSpec | undefined> = { ...envelope, ...rule.fields };
  const fields = Object.entries(specs).flatMap(([key, spec]) => (spec ? [{ key, value: compileField(spec) }] : []));
  const hashed = specs.id === undefined;

  /** One event, or the reason it cannot be built. */
  const build = (message: Message, element: unknown, id: string | undefined): Message | string => {
    const kind = type(message, element);
    if (kind instanceof Invalid) return `${name}.type: ${kind.reason}`;
    const event: Message = { id, type: kind, source };
    for (const field of fields) {
      const value = field.value(message, element);
      if (value instanceof Invalid) return `${name}.${field.key}: ${value.reason}`;
      if (value !== undefined) event[field.key] = value;
    }
    return event;
  };

  if (rule.each === undefined) {
    return (message) => {
      const event = build(message, undefined, hashed ? digest(name, message) : undefined);
      return typeof event === 'string' ? { ok: false, reason: event } : { ok: true, events: [event] };
    };
  }
  const eachPath = rule.each;
  const readList = compilePath(eachPath);
  return (message) => {
    const elements = readList(message, undefined);
    if (!Array.isArray(elements)) {
      const got = elements === undefined ? 'is missing' : `is not an array (got ${excerpt(elements)})`;
      return { ok: false, reason: `${name}.each: "${eachPath}" ${got}` };
    }
    // Element ids extend the message's: a resent snapshot yields the same ids, element by element.
    const base = hashed ? digest(name, message) : '';
    const events: Message[] = [];
    for (let i = 0; i < elements.length; i++) {
      const event = build(message, elements[i], hashed ? `${base}.${i}` : undefined);
      if (typeof event === 'string') return { ok: false, reason: `${event} (at ${eachPath}.${i})` };
      events.push(event);
    }
    return { ok: true, events };
  };
}

/**
 * For platforms without message ids: the same message always gets the same id, so the pipeline
 * drops a resend, while two different messages collide only by a 132-bit hash accident.
 */
function digest(rule: string, message: Message): string {
  return hash('sha256', `${rule}\n${JSON.stringify(message)}`, 'base64url').slice(0, 22);
}

function compileType(type: NonNullable<Rule['type']>): Getter {
  if (typeof type === 'string') return () => type;
  const read = compilePath(type.path);
  const map = mapTransform(type.map);
  const missing = new Invalid(`"${type.path}" is missing`);
  return (message, element) => {
    const value = read(message, element);
    return value === undefined || value === null ? missing : map(value);
  };
}

/** The field's value, undefined to leave it out (optional and absent), or an Invalid. */
function compileField(spec: FieldSpec): Getter {
  const constant = spec.const;
  if (constant !== undefined) return () => constant;
  const read = spec.path !== undefined ? compilePath(spec.path) : compileTemplate(spec.template as string);
  const chain = spec.transform.map(compileTransform);
  const fallback: Scalar | undefined = spec.default;
  const optional = spec.optional;
  const missing = new Missing(`"${spec.path ?? spec.template}" is missing`);
  return (message, element) => {
    let value = read(message, element);
    if (value === undefined || value === null || value instanceof Missing) {
      if (fallback !== undefined) value = fallback;
      else if (optional) return undefined;
      else return value instanceof Missing ? value : missing;
    } else if (value instanceof Invalid) {
      return value;
    }
    for (const transform of chain) {
      value = transform(value);
      if (value instanceof Invalid) return value;
    }
    return value;
  };
}

function compileTransform(spec: TransformSpec): Transform {
  if (typeof spec === 'string') return TRANSFORMS[spec];
  return 'map' in spec ? mapTransform(spec.map) : patternTransform(spec.pattern);
}

/** `lot.vehicle.year`, `bids.0.amount` (arrays index by digits), or `@.id` within `each`. */
function compilePath(path: string): Getter {
  const [head, ...rest] = path.split('.');
  const ofElement = head === '@';
  const keys = ofElement ? rest : [head as string, ...rest];
  const only = keys[0] as string;
  if (keys.length === 1) return ofElement ? (_, element) => field(element, only) : (message) => field(message, only);
  return (message, element) => {
    let value = ofElement ? element : message;
    for (const key of keys) value = field(value, key);
    return value;
  };
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Message)[key] : undefined;
}

/** `"{auction.site}-{saleDate}"`: placeholder values must be present scalars. */
function compileTemplate(text: string): Getter {
  const parts = text.split(PLACEHOLDER);
  const literals = parts.filter((_, i) => i % 2 === 0);
  const holes = parts
    .filter((_, i) => i % 2 === 1)
    .map((path) => ({ path, read: compilePath(path), missing: new Missing(`"${path}" is missing`) }));
  return (message, element) => {
    let text = literals[0] as string;
    for (let i = 0; i < holes.length; i++) {
      const hole = holes[i] as (typeof holes)[number];
      const value = hole.read(message, element);
      if (value === undefined || value === null) return hole.missing;
      if (typeof value === 'object') return new Invalid(`"${hole.path}" ${excerpt(value)} is not a string or number`);
      text += `${value as Scalar}${literals[i + 1] as string}`;
    }
    return text;
  };
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : typeof value;
}

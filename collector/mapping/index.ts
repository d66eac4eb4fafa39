/**
 * Declarative feed mappings: a JSON file per platform says how its messages become contract
 * events, so a new feed is configured rather than coded. The format is described in the README
 * ("Feed mappings") and validated by ./schema.ts.
 */
import fs from 'node:fs';
import biddingPlatform from '../mappings/bidding-platform.json' with { type: 'json' };
import clerkConsole from '../mappings/clerk-console.json' with { type: 'json' };
import type { Normalizer } from '../normalize';
import { compileMapping, type MappingOptions } from './compile';
import { MappingError } from './schema';

export { compileMapping, type MappingOptions } from './compile';
export { MappingError } from './schema';

/** The mappings shipped in collector/mappings/, by the name a source config may give. */
export const SHIPPED_MAPPINGS = {
  'bidding-platform': biddingPlatform,
  'clerk-console': clerkConsole,
} satisfies Record<string, unknown>;

/**
 * Loads and compiles a mapping: `ref` is a shipped mapping's name or a path to a mapping file.
 * Called once per source at start-up; throws a MappingError naming the file and the bad key.
 */
export function loadMapping(ref: string, options: MappingOptions): Normalizer {
  if (Object.hasOwn(SHIPPED_MAPPINGS, ref)) {
    return compileMapping(SHIPPED_MAPPINGS[ref as keyof typeof SHIPPED_MAPPINGS], options, ref);
  }
  let text: string;
  try {
    text = fs.readFileSync(ref, 'utf8');
  } catch (error) {
    const shipped = Object.keys(SHIPPED_MAPPINGS).join(', ');
    throw new MappingError(`mapping ${ref} is neither a shipped mapping (${shipped}) nor a readable file`, {
      cause: error,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new MappingError(`mapping ${ref} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  return compileMapping(json, options, ref);
}

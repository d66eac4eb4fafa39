import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const INDEX = fileURLToPath(new URL('../ui/dist/index.html', import.meta.url));

/**
 * The id of the wall display build being served: a hash of its built `index.html`, which names
 * every bundle by its content hash. Looked at (a `stat`) on each call and read again only when the
 * file changed, so a `npm run build` under a running server is seen within a second. null while
 * there is no build.
 */
export function uiBuild(index = INDEX): () => string | null {
  let seen: { mtimeMs: number; size: number; id: string } | undefined;
  return () => {
    try {
      const { mtimeMs, size } = fs.statSync(index);
      if (seen?.mtimeMs !== mtimeMs || seen.size !== size) {
        const id = createHash('sha256').update(fs.readFileSync(index)).digest('hex').slice(0, 12);
        seen = { mtimeMs, size, id };
      }
      return seen.id;
    } catch {
      return null;
    }
  };
}

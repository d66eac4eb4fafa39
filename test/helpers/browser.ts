/** What every browser test shares: Debian's Chromium, launched headless as this machine allows, and where output goes. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Screenshots, kept with the test output. */
export const OUTPUT = path.join(ROOT, 'test-output');

/** No browser download is possible here: playwright-core drives the packaged Chromium. */
export const CHROMIUM = {
  executablePath: '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
  ],
};

/** Fails early, with the fix, when the UI bundle a test needs was not built. */
export function requireBuiltUi(page: string): void {
  if (!fs.existsSync(path.join(ROOT, 'ui/dist', page))) {
    throw new Error(`ui/dist/${page} is missing: \`npm test\` builds it first (scripts/bootstrap.sh)`);
  }
}

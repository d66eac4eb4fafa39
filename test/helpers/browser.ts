/** What every browser test shares: Debian's Chromium, launched headless as this machine allows, and where output goes. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import type { Config } from '../../config';
import { SESSION_COOKIE } from '../../server/access/credentials';
import { withAccessStore } from './access';

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

/**
 * Signs the browser in as a viewer of the server on `config` (a user and a session cookie made
 * with the server's own access store), as a manager who logged in would be.
 */
export async function signInViewer(context: BrowserContext, config: Config, url: string): Promise<void> {
  const session = await withAccessStore(config, async (store) => {
    // Saved again, the user's other sessions would end: each browser keeps its own.
    if (!(await store.users()).some((user) => user.name === 'wall test'))
      await store.saveUser('wall test', 'viewer', 'wall-test-password');
    return (await store.login('wall test', 'wall-test-password'))?.session;
  });
  if (session === undefined) throw new Error('could not log the test viewer in');
  await context.addCookies([{ name: SESSION_COOKIE, value: session, url }]);
}

/** How far the page scrolls past the viewport, each way: `{ vertical: 0, horizontal: 0 }` when it fits. */
export function overflow(page: Page): Promise<{ vertical: number; horizontal: number }> {
  return page.evaluate(() => ({
    vertical: document.documentElement.scrollHeight - window.innerHeight,
    horizontal: document.documentElement.scrollWidth - window.innerWidth,
  }));
}

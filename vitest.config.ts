import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The 48-lane browser load test measures the page's main thread and allows no task over 50 ms: it
 * runs on its own before everything else, so neither other tests' servers and browsers nor what
 * they leave behind (InfluxDB compacting their databases) share the two cores with it. It needs no
 * InfluxDB or Redis (test/helpers/wall-server.ts).
 */
const LOAD_TEST = 'test/e2e/wall-display-load.test.ts';
const timeouts = { testTimeout: 30000, hookTimeout: 60000 };

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'lanewatch',
          globalSetup: ['test/global-setup.ts'],
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, LOAD_TEST],
          sequence: { groupOrder: 1 },
          ...timeouts,
        },
      },
      { test: { name: 'display load', include: [LOAD_TEST], sequence: { groupOrder: 0 }, ...timeouts } },
    ],
  },
});

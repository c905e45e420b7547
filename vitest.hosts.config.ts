import { defineConfig } from 'vitest/config';

/**
 * `npm run test:hosts`: tests that start real hosts (Debian's Chromium through playwright-core,
 * code-server) against a real daemon on loopback. Not part of `npm test`, which needs only Node.
 * One file at a time: a browser, an editor and a daemon already fill two cores.
 */
export default defineConfig({
  test: {
    include: ['test/hosts/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 1,
    testTimeout: 180_000,
    hookTimeout: 300_000,
  },
});

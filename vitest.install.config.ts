import { defineConfig } from 'vitest/config';

/**
 * `npm run test:install`: the npm package installed into an empty prefix and run from there (the
 * registry, or npm's cache, supplies its dependencies). Not part of `npm test`: installing
 * onnxruntime-node (~300 MB unpacked) and running the installed daemon take about a minute on two
 * cores, and it needs the npm registry rather than only Node.
 */
export default defineConfig({
  test: {
    include: ['test/install/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 1,
    testTimeout: 180_000,
    hookTimeout: 300_000,
  },
});

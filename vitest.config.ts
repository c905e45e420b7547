import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    // Host tests start a real browser or VS Code: `npm run test:hosts` (vitest.hosts.config.ts).
    exclude: ['**/node_modules/**', 'test/hosts/**'],
    // Two cores: more workers only contend for them, and ONNX Runtime sessions are threaded already.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});

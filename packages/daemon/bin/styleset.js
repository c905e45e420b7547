#!/usr/bin/env node
// The CLI is bundled by `npm run build` (run automatically by `npm ci` / `npm install`).
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(bundle)) {
  console.error('styleset: the CLI is not built yet (missing packages/daemon/dist/cli.js). Run `npm run build` in the repository root.');
  process.exit(1);
}
await import(bundle.href);

// Bundles the CLI, the engine process it starts (engine/worker-main.ts) and the trace lanes' thread
// (vector/lane-worker.ts) into ESM files side by side in dist/. What stays external is in
// bundle-externals.json: native modules, ws's optional native speed-ups (bufferutil,
// utf-8-validate: loaded only if present), what loads only for SVG output or transparency (svgo,
// the tracer, the renderer), and BullMQ and ioredis, which only team mode loads
// (team/redis-connection.ts imports them on first use: loading them costs most of a second that
// no other command should pay). Those among the daemon's dependencies are the
// published npm package's dependencies (scripts/release/npm-package.ts). dist/bundle-meta.json
// (esbuild's metafile) lists what went in, for that package's licence notices.
import { writeFile } from 'node:fs/promises';
import { build } from 'esbuild';
import externals from './bundle-externals.json' with { type: 'json' };

const result = await build({
  entryPoints: { cli: 'src/cli/main.ts', 'engine-worker': 'src/engine/worker-main.ts', 'vector-worker': 'src/vector/lane-worker.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  metafile: true,
  external: externals,
  // Bundled CommonJS dependencies call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: 'warning',
});
await writeFile('dist/bundle-meta.json', JSON.stringify(result.metafile));

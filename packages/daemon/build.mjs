// Bundles the CLI, and the engine process it starts (engine/worker-main.ts), into ESM files side by
// side in dist/; native and optional modules stay external.
import { build } from 'esbuild';

await build({
  entryPoints: { cli: 'src/cli/main.ts', 'engine-worker': 'src/engine/worker-main.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  // svgo, the tracer and the renderer load only when a run asks for SVGs or transparency.
  external: ['onnxruntime-node', 'bufferutil', 'utf-8-validate', 'svgo', '@neplex/vectorizer', '@resvg/resvg-js'],
  // Bundled CommonJS dependencies call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: 'warning',
});

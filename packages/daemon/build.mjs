// Bundles the CLI into one ESM file; native and optional modules stay external.
import { build } from 'esbuild';

await build({
  entryPoints: { cli: 'src/cli/main.ts' },
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

// Bundles the extension into one CommonJS file for VS Code's Node extension host. `vscode` is
// provided by the host; `ws` is bundled, its optional native speed-ups stay out (ws works without).
// The WebP encoder's WebAssembly goes next to the bundle, where src/encode.ts loads it from.
import { copyFile, mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = dirname(fileURLToPath(import.meta.url));
// package.json's `main` points at dist/; tests build into a folder of their own.
const dist = process.argv[2] === undefined ? join(root, 'dist') : resolve(process.argv[2]);

await build({
  entryPoints: [join(root, 'src/extension.ts')],
  outfile: join(dist, 'extension.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: true,
  external: ['vscode', 'bufferutil', 'utf-8-validate'],
  logLevel: 'warning',
});

const require = createRequire(import.meta.url);
const webp = dirname(require.resolve('@jsquash/webp/package.json'));
await mkdir(dist, { recursive: true });
await copyFile(join(webp, 'codec/enc/webp_enc_simd.wasm'), join(dist, 'webp_enc_simd.wasm'));

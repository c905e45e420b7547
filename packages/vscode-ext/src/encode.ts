import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as webp from '@jsquash/webp/encode';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import type { ImageFormat } from './formats';

/** Visually lossless for generated art, and a fraction of the PNG's size: what a page would ship. */
const QUALITY = 90;

/**
 * The file for a reference from the PNG the daemon sent: the PNG itself, or the same pixels as a
 * JPEG (transparency flattened on white, as JPEG has none) or a WebP (transparency kept).
 * `wasmDir` holds the WebP encoder's WebAssembly (the bundle's folder).
 */
export async function encodeImage(png: Uint8Array, format: Exclude<ImageFormat, 'svg'>, wasmDir: string): Promise<Uint8Array> {
  if (format === 'png') return png;
  const { width, height, data } = PNG.sync.read(Buffer.from(png.buffer, png.byteOffset, png.byteLength));
  if (format === 'jpeg') {
    const flat = Buffer.alloc(width * height * 4);
    for (let p = 0; p < width * height; p++) {
      const a = data[4 * p + 3];
      for (let c = 0; c < 3; c++) flat[4 * p + c] = Math.round((data[4 * p + c] * a + 255 * (255 - a)) / 255);
      flat[4 * p + 3] = 255;
    }
    return new Uint8Array(jpeg.encode({ data: flat, width, height }, QUALITY).data);
  }
  await webpEncoder(wasmDir);
  const pixels = new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength);
  const image = { data: pixels, width, height, colorSpace: 'srgb' } as unknown as Parameters<typeof webp.default>[0];
  return new Uint8Array(await webp.default(image, { quality: QUALITY }));
}

let webpReady: Promise<unknown> | undefined;

/**
 * libwebp compiled to WebAssembly (@jsquash/webp), instantiated once from the file next to the
 * bundle. Its SIMD build: every Node and VS Code the extension supports runs WebAssembly SIMD.
 */
function webpEncoder(wasmDir: string): Promise<unknown> {
  webpReady ??= readFile(join(wasmDir, WEBP_WASM))
    .then((bytes) => wasm.compile(bytes))
    // locateFile: the glue would otherwise resolve the file against `import.meta.url`, which a
    // CommonJS bundle does not have; the compiled module is used, the path never read.
    .then((module) => (webp.init as InitWithModule)(module, { locateFile: (name: string) => join(wasmDir, name) }))
    .catch((error: unknown) => {
      webpReady = undefined;
      throw error;
    });
  return webpReady;
}

/** Node's WebAssembly, which the project's type libraries (ES2022, Node) leave undeclared. */
const wasm = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<unknown> } }).WebAssembly;

/** What `init` takes at run time; its declaration leaves out the compiled module. */
type InitWithModule = (module: unknown, overrides: { locateFile(name: string): string }) => Promise<unknown>;

/** Copied next to the bundle by build.mjs. */
export const WEBP_WASM = 'webp_enc_simd.wasm';

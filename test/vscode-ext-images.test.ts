import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { LIMITS } from '@styleset/protocol';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeImage } from '../packages/vscode-ext/src/encode';
import { OutsideWorkspaceError, TargetExistsError, writeImage } from '../packages/vscode-ext/src/files';
import { imageFormatOf } from '../packages/vscode-ext/src/formats';
import type { PlannedImage } from '../packages/vscode-ext/src/plan';
import { generationSize, groupBySize, roundSide } from '../packages/vscode-ext/src/sizes';
import { readStyleImage, sniffMime, workspaceStyle } from '../packages/vscode-ext/src/style';

const require = createRequire(import.meta.url);
const webpDir = dirname(require.resolve('@jsquash/webp/package.json'));
const limits = LIMITS.size;

describe('sizes', () => {
  it('rounds a side to the nearest multiple of 8 within the limits', () => {
    expect([1, 4, 11, 12, 13, 64, 100, 1199, 5000].map((px) => roundSide(px, limits))).toEqual([8, 8, 8, 16, 16, 64, 104, 1200, 2048]);
    expect(roundSide(30, { min: 20, max: 50, multipleOf: 16 })).toBe(32);
    expect(roundSide(10, { min: 20, max: 50, multipleOf: 16 })).toBe(32);
    expect(roundSide(60, { min: 20, max: 50, multipleOf: 16 })).toBe(48);
  });

  it('takes the size a reference gives, keeps the fallback aspect for a missing side, else the fallback', () => {
    const fallback = { width: 512, height: 256 };
    expect(generationSize({ width: 1200, height: 400 }, fallback, limits)).toEqual({ width: 1200, height: 400 });
    expect(generationSize({ width: 100 }, fallback, limits)).toEqual({ width: 104, height: 48 });
    expect(generationSize({ height: 100 }, fallback, limits)).toEqual({ width: 200, height: 104 });
    expect(generationSize(undefined, fallback, limits)).toEqual(fallback);
    expect(generationSize({ width: 33, height: 33 }, fallback, limits)).toEqual({ width: 32, height: 32 });
  });

  it('groups images into one set per size, in order of first appearance, keeping their order', () => {
    const image = (name: string, width?: number): PlannedImage => ({
      target: `/w/${name}.png`,
      folder: '/w',
      format: 'png',
      prompt: name,
      reason: 'missing',
      mentions: [],
      ...(width !== undefined && { size: { width, height: width } }),
    });
    const sets = groupBySize([image('a'), image('b', 32), image('c'), image('d', 30), image('e', 800)], (i) => generationSize(i.size, { width: 64, height: 64 }, limits));
    expect(sets.map((set) => [set.width, set.height, set.images.map((i) => i.prompt)])).toEqual([
      [64, 64, ['a', 'c']],
      [32, 32, ['b', 'd']],
      [800, 800, ['e']],
    ]);
  });
});

/** A 16x8 picture with a colour per column and a half-transparent bottom row. */
function testPng(): { png: Uint8Array; rgba: Uint8Array } {
  const png = new PNG({ width: 16, height: 8 });
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 16; x++) {
      const i = 4 * (y * 16 + x);
      png.data.set([x * 16, 255 - x * 16, 128, y === 7 ? 128 : 255], i);
    }
  }
  return { png: new Uint8Array(PNG.sync.write(png)), rgba: new Uint8Array(png.data) };
}

/** Largest difference of any channel between two RGBA images. */
function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

describe('formats', () => {
  it('writes each reference in the format its extension names', () => {
    expect(['a.png', 'b.JPG', 'c.jpeg', 'd.webp', 'e.gif', 'f.svg', 'g.avif'].map(imageFormatOf)).toEqual(['png', 'jpeg', 'jpeg', 'webp', undefined, 'svg', undefined]);
  });

  it('passes a PNG through untouched', async () => {
    const { png } = testPng();
    expect(await encodeImage(png, 'png', webpDir)).toBe(png);
  });

  it('writes a JPEG of the same pixels, transparency flattened on white', async () => {
    const { png, rgba } = testPng();
    const bytes = await encodeImage(png, 'jpeg', webpDir);
    expect([...bytes.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    const decoded = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
    expect([decoded.width, decoded.height]).toEqual([16, 8]);
    const flat = rgba.map((value, i) => (i % 4 === 3 ? 255 : Math.round((value * rgba[i - (i % 4) + 3] + 255 * (255 - rgba[i - (i % 4) + 3])) / 255)));
    // Quality 90 with 4:2:0 chroma on sharp colour columns: well under a tenth of the range.
    expect(maxDifference(decoded.data, flat)).toBeLessThan(26);
    expect(maxDifference(decoded.data, flat)).toBeGreaterThan(0);
  });

  it('writes a WebP of the same pixels with its transparency, read back by libwebp\'s decoder', async () => {
    const { png, rgba } = testPng();
    const bytes = await encodeImage(png, 'webp', webpDir + '/codec/enc');
    expect(Buffer.from(bytes.subarray(0, 4)).toString('latin1')).toBe('RIFF');
    expect(Buffer.from(bytes.subarray(8, 12)).toString('latin1')).toBe('WEBP');
    const { default: decode, init } = await import('@jsquash/webp/decode');
    // Node's WebAssembly, which the test project's type libraries (ES2022, Node) leave undeclared.
    const wasm = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<unknown> } }).WebAssembly;
    await (init as unknown as (module: unknown) => Promise<void>)(await wasm.compile(await readFile(join(webpDir, 'codec/dec/webp_dec.wasm'))));
    const decoded = await decode(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    expect([decoded.width, decoded.height]).toEqual([16, 8]);
    expect(maxDifference(decoded.data, rgba)).toBeLessThan(26);
    // The half-transparent row stays half-transparent (alpha is kept, not flattened).
    expect(decoded.data[4 * (7 * 16) + 3]).toBeGreaterThan(100);
    expect(decoded.data[4 * (7 * 16) + 3]).toBeLessThan(156);
  });
});

describe('writing images', () => {
  let root: string;
  let folder: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'styleset-write-'));
    folder = join(root, 'workspace');
    await mkdir(folder);
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const bytes = new Uint8Array([1, 2, 3]);

  it('makes missing folders and leaves no temporary file behind', async () => {
    const target = join(folder, 'img/deep/a.png');
    await writeImage({ folder, target, bytes, replace: false });
    expect([...(await readFile(target))]).toEqual([1, 2, 3]);
    expect(await readdir(dirname(target))).toEqual(['a.png']);
  });

  it('never overwrites a file that appeared, unless told to replace it', async () => {
    const target = join(folder, 'a.png');
    await writeFile(target, 'a real image');
    const error = await writeImage({ folder, target, bytes, replace: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TargetExistsError);
    expect(await readFile(target, 'utf8')).toBe('a real image');
    expect(await readdir(folder)).toEqual(['a.png']);
    await writeImage({ folder, target, bytes, replace: true });
    expect([...(await readFile(target))]).toEqual([1, 2, 3]);
    expect(await readdir(folder)).toEqual(['a.png']);
  });

  it('never writes outside the workspace folder, by path or through a linked folder', async () => {
    await mkdir(join(root, 'elsewhere'));
    await symlink(join(root, 'elsewhere'), join(folder, 'linked'));
    const outside = await writeImage({ folder, target: join(root, 'x.png'), bytes, replace: false }).catch((e: unknown) => e);
    expect(outside).toBeInstanceOf(OutsideWorkspaceError);
    const linked = await writeImage({ folder, target: join(folder, 'linked/sub/x.png'), bytes, replace: false }).catch((e: unknown) => e);
    expect(linked).toBeInstanceOf(OutsideWorkspaceError);
    expect(await readdir(join(root, 'elsewhere'))).toEqual([]);
  });

  it('replaces a link to a file outside with a file inside, leaving the outside file alone', async () => {
    await writeFile(join(root, 'outside.png'), 'outside');
    await symlink(join(root, 'outside.png'), join(folder, 'a.png'));
    await writeImage({ folder, target: join(folder, 'a.png'), bytes, replace: true });
    expect((await lstat(join(folder, 'a.png'))).isSymbolicLink()).toBe(false);
    expect(await readFile(join(root, 'outside.png'), 'utf8')).toBe('outside');
  });
});

describe('the style image', () => {
  let folder: string;
  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'styleset-style-'));
  });
  afterEach(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it("is the workspace's setting, read with a prompt from its name, else its saved style; none means each set's first image", async () => {
    const { png } = testPng();
    await mkdir(join(folder, 'brand'));
    await writeFile(join(folder, 'brand/fox-mascot.png'), png);
    expect(await workspaceStyle({ styleImage: '', savedStyle: '' }, folder)).toEqual({ kind: 'first' });
    expect(await workspaceStyle({ styleImage: 'brand/fox-mascot.png', savedStyle: '' }, folder)).toEqual({ kind: 'image', image: { bytes: png, mime: 'image/png' }, prompt: 'a fox mascot icon' });
    // A saved style of the daemon's when there is no style image; the image comes first.
    expect(await workspaceStyle({ styleImage: ' ', savedStyle: ' brand ' }, folder)).toEqual({ kind: 'saved', name: 'brand' });
    expect(await workspaceStyle({ styleImage: 'brand/fox-mascot.png', savedStyle: 'brand' }, folder)).toMatchObject({ kind: 'image' });
  });

  it('is refused, naming the setting, when missing, outside, or not a PNG or JPEG', async () => {
    await writeFile(join(folder, 'fake.png'), 'GIF89a');
    const refusal = (relative: string) => readStyleImage(relative, folder).then(() => undefined, (e: Error & { field?: string }) => [e.message, e.field]);
    expect(await refusal('nope.png')).toEqual(['styleset.styleImage: there is no nope.png', 'styleset.styleImage']);
    expect(await refusal('../x.png')).toEqual(['styleset.styleImage: ../x.png is outside the workspace folder', 'styleset.styleImage']);
    expect(await refusal('fake.png')).toEqual(['styleset.styleImage: fake.png is not a PNG or JPEG image', 'styleset.styleImage']);
  });

  it('is sniffed by its bytes, not its name', () => {
    expect(sniffMime(testPng().png)).toBe('image/png');
    expect(sniffMime(new Uint8Array([0xff, 0xd8, 0xff, 0xe0]))).toBe('image/jpeg');
    expect(sniffMime(new TextEncoder().encode('RIFF....WEBP'))).toBeUndefined();
  });
});

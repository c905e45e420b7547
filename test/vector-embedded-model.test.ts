import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveOptions } from '@styleset/protocol';
import { EMBEDDED_MODEL_ID, defaultModelDir } from '../packages/daemon/src/model/default-model';
import { PipelineEngine } from '../packages/daemon/src/engine/pipeline-engine';
import { DEFAULT_DECODE_LIMITS, type Image8 } from '../packages/daemon/src/image/image8';
import { decodePng } from '../packages/daemon/src/image/png';
import { vectoriseSet, type VectorSet } from '../packages/daemon/src/vector';
import { expectPngBound, longHex, mae, paths, render, thinnestBlob } from '../packages/daemon/test/vector/support';

/*
 * Vector output on real outputs of the embedded model, generated here. The current embedded
 * model decodes through a fixed linear VAE and its images carry patch noise, so they exercise the
 * noisy end of the vectoriser (large palettes, pixel outlines); the bounds are the issue's and do
 * not depend on which model is embedded.
 */

const run = promisify(execFile);
const cli = join(import.meta.dirname, '..', 'packages', 'daemon', 'bin', 'styleset.js');
const PROMPTS = ['a home icon', 'a search icon', 'a settings icon', 'a user icon'];

let dataDir: string;
let images: Image8[];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'styleset-vector-'));
  const engine = new PipelineEngine({
    models: [{ id: EMBEDDED_MODEL_ID, dir: defaultModelDir(), embedded: true }],
    defaultModelId: EMBEDDED_MODEL_ID,
    runtime: { provider: 'cpu' },
    dataDir: join(dataDir, 'data'),
  });
  try {
    const [model] = await engine.listModels();
    const pngs: { index: number; png: Uint8Array }[] = [];
    await engine.run(
      { kind: 'set', prompts: PROMPTS, options: { ...resolveOptions('set', model, {}), model: model.id, seed: 3 } },
      { onProgress: () => undefined, onResult: async (r) => void pngs.push({ index: r.index, png: r.png }) },
      new AbortController().signal,
    );
    images = pngs.sort((a, b) => a.index - b.index).map((p) => decodePng(p.png, `image ${p.index}`, DEFAULT_DECODE_LIMITS));
  } finally {
    await engine.close();
  }
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

function expectIssueBounds(set: VectorSet): void {
  const palette = set.palettes[0].map((c) => c.hex);
  const errors: number[] = [];
  for (const [i, image] of set.images.entries()) {
    const svg = image.svg!;
    const rendered = render(svg, image.png.width);
    expect(mae(rendered, image.quantised!), `image ${i} vs its quantised raster`).toBeLessThanOrEqual(6);
    errors.push(mae(rendered, image.png));
    expect(image.stats!.errorOriginal).toBeCloseTo(errors[i], 6);
    expect(paths(svg).every((p) => palette.includes(longHex(p.fill))), `image ${i} fills outside the set palette`).toBe(true);
    expect(thinnestBlob(svg, image.png.width, image.png.height)).toBeGreaterThanOrEqual(0.75);
  }
  expectPngBound(errors);
}

describe('vector output of the embedded model', () => {
  it('separates the backgrounds and traces the set in one palette, within the bounds', async () => {
    expect(images).toHaveLength(4);
    const set = await vectoriseSet(images, { background: 'transparent', svg: true, palette: 'set' });
    expect(set.palettes).toHaveLength(1);
    expect(set.images.every((im) => im.palette === 0)).toBe(true);
    // The model draws one icon on a plain background: every image separates.
    expect(set.images.map((im) => im.warning)).toEqual([undefined, undefined, undefined, undefined]);
    for (const im of set.images) {
      expect(im.png.channels).toBe(4);
      expect(im.png.data[3]).toBe(0);
    }
    expectIssueBounds(set);
  });

  it('traces with the background kept, within the bounds', async () => {
    const set = await vectoriseSet(images, { background: 'keep', svg: true, palette: 'set' });
    expectIssueBounds(set);
    for (const im of set.images) expect(render(im.svg!, im.png.width).data[3]).toBe(255);
  });
});

describe('styleset generate --format / --background', () => {
  const styleset = async (...args: string[]) => run(process.execPath, [cli, ...args], { env: { ...process.env, STYLESET_DATA_DIR: join(dataDir, 'data') } });

  it('writes PNGs with alpha and SVGs with one shared palette, recorded in set.json', async () => {
    const out = join(dataDir, 'both');
    await styleset('generate', '--format', 'both', '--background', 'transparent', '--seed', '3', '--out', out, '--no-progress', 'a home icon', 'a search icon', 'a settings icon', 'a user icon');
    const files = (await readdir(out)).sort();
    expect(files.filter((f) => f.endsWith('.png'))).toHaveLength(4);
    expect(files.filter((f) => f.endsWith('.svg'))).toHaveLength(4);
    const record = JSON.parse(await readFile(join(out, 'set.json'), 'utf8'));
    expect(record.vector).toMatchObject({ format: 'both', background: 'transparent', palette: 'set' });
    expect(record.vector.palettes).toHaveLength(1);
    const palette: { hex: string; images: number[] }[] = record.vector.palettes[0].colours;
    expect(typeof record.timings.vectorMs).toBe('number');
    const errors: number[] = [];
    for (const [i, image] of record.images.entries()) {
      const pngBytes = await readFile(image.png);
      // IHDR colour type 6: RGBA.
      expect(pngBytes[25]).toBe(6);
      const png = decodeRgba(pngBytes);
      expect(png.data[3]).toBe(0);
      const svg = await readFile(image.svg, 'utf8');
      expect(image.svg).toBe(image.png.replace(/\.png$/, '.svg'));
      expect(image).toMatchObject({ transparent: true, palette: 0, paths: paths(svg).length, bytes: Buffer.byteLength(svg) });
      // Colours used by the image <-> palette entries listing the image <-> fills in its SVG.
      const listed = palette.filter((c) => c.images.includes(i)).map((c) => c.hex);
      expect([...image.colours].sort()).toEqual([...listed].sort());
      expect(paths(svg).map((p) => longHex(p.fill)).sort()).toEqual([...listed].sort());
      errors.push(mae(render(svg, png.width), png));
    }
    // Every image separated: the only warning an image may carry is its SVG's error, beyond the bound.
    expectPngBound(errors, record.images.map((im: { warning?: string }) => im.warning));
  });

  it('writes only SVGs with --format svg, and nothing vector by default', async () => {
    const svgOnly = join(dataDir, 'svg');
    await styleset('generate', '--format', 'svg', '--seed', '4', '--out', svgOnly, '--no-progress', 'a star icon', 'a moon icon');
    expect((await readdir(svgOnly)).sort()).toEqual(['01-a-star-icon.svg', '02-a-moon-icon.svg', 'set.json']);
    const plain = join(dataDir, 'png');
    await styleset('generate', '--seed', '4', '--out', plain, '--no-progress', 'a star icon', 'a moon icon');
    expect((await readdir(plain)).sort()).toEqual(['01-a-star-icon.png', '02-a-moon-icon.png', 'set.json']);
    const record = JSON.parse(await readFile(join(plain, 'set.json'), 'utf8'));
    expect(record.vector).toBeUndefined();
    expect((await readFile(join(plain, '01-a-star-icon.png')))[25]).toBe(2);
  });

  it('rejects an unknown format or background, naming the flag', async () => {
    await expect(styleset('generate', '--format', 'pdf', 'a star icon')).rejects.toMatchObject({ stderr: expect.stringMatching(/--format.*png, svg, both/s) });
    await expect(styleset('generate', '--background', 'white', 'a star icon')).rejects.toMatchObject({ stderr: expect.stringMatching(/--background.*keep, transparent/s) });
  });
});

/** The raw RGBA of a PNG (the project's decoder composites alpha away). */
function decodeRgba(bytes: Uint8Array): Image8 {
  const png = PNG.sync.read(Buffer.from(bytes));
  return { width: png.width, height: png.height, channels: 4, data: new Uint8Array(png.data) };
}

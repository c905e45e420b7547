/**
 * The engine's vector stage on drawn icons and a texture, with the real separation, tracer,
 * svgo and renderer: what each PNG result shows, the SVGs and their palettes, and what an image
 * that cannot be separated or traced gets instead of an error.
 */
import { describe, expect, it } from 'vitest';
import { CancelledError } from '../../src/errors';
import type { EngineVectorSet } from '../../src/engine/engine';
import { needsVector, VectorStage } from '../../src/engine/vector-stage';
import type { Image8 } from '../../src/image/image8';
import { ORIGINAL_BOUND } from '../../src/vector';
import { drawnSet, texture } from '../vector/drawn-icons';
import { longHex, mae, paths, render } from '../vector/support';

const SIZE = 48;
const [disc, squarePlus, ring] = drawnSet(SIZE);
const images: Image8[] = [disc, texture(SIZE, 7), squarePlus, ring];
const TEXTURE = 1;
const ICONS = [0, 2, 3];
const meta = (index: number) => ({ index, prompt: `prompt ${index}`, seed: 100 + index });
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** Feeds the images in a decoder's order (here not index order), then makes the SVGs. */
async function run(options: { format: 'svg' | 'both'; background: 'keep' | 'transparent'; palette: 'set' | 'image' }, maxSvgBytes?: number): Promise<EngineVectorSet> {
  const stage = await VectorStage.open(options, { maxSvgBytes });
  for (const index of [2, 0, 3, 1]) await stage.add(meta(index), images[index]);
  return await stage.svgs(async () => undefined);
}

describe('which jobs need it', () => {
  it('is any that asks for an SVG or a transparent background', () => {
    expect(needsVector({ format: 'png', background: 'keep', palette: 'set' })).toBe(false);
    expect(needsVector({ format: 'png', background: 'keep', palette: 'image' })).toBe(false);
    expect(needsVector({ format: 'png', background: 'transparent', palette: 'set' })).toBe(true);
    expect(needsVector({ format: 'svg', background: 'keep', palette: 'set' })).toBe(true);
  });
});

describe('the PNG of each image, as it is decoded', () => {
  it('has the background cut out where it can be found, and keeps it with a warning where it cannot', async () => {
    const stage = await VectorStage.open({ format: 'png', background: 'transparent', palette: 'set' });
    expect(stage.wantsSvg).toBe(false);
    const icon = await stage.add(meta(0), images[0]);
    expect(icon).toMatchObject({ transparent: true });
    expect(icon.warning).toBeUndefined();
    expect(icon.image.channels).toBe(4);
    // A corner is background, the centre is the disc.
    expect(icon.image.data[3]).toBe(0);
    const centre = 4 * ((SIZE / 2) * SIZE + SIZE / 2);
    expect(icon.image.data[centre + 3]).toBe(255);

    const noise = await stage.add(meta(TEXTURE), images[TEXTURE]);
    expect(noise.transparent).toBe(false);
    expect(noise.warning).toMatch(/^background kept: \S/);
    expect(noise.image).toBe(images[TEXTURE]);
  });

  it('is the image itself when the background is kept', async () => {
    const stage = await VectorStage.open({ format: 'svg', background: 'keep', palette: 'set' });
    expect(await stage.add(meta(0), images[0])).toEqual({ image: images[0] });
  });
});

describe('the SVGs, once the set is in', () => {
  it('come in index order, share one palette, and have no background where it was removed', async () => {
    const set = await run({ format: 'both', background: 'transparent', palette: 'set' });
    expect(set.images.map((im) => [im.index, im.prompt, im.seed, im.width])).toEqual([0, 1, 2, 3].map((i) => [i, `prompt ${i}`, 100 + i, SIZE]));
    expect(set.summary.palettes).toHaveLength(1);
    const [{ colors, images: using }] = set.summary.palettes;
    expect(using).toEqual([0, 1, 2, 3]);
    expect(set.summary.failed).toBeUndefined();
    for (const im of set.images) {
      const svg = text(im.svg!);
      const fills = [...new Set(paths(svg).map((p) => longHex(p.fill)))].sort();
      expect(fills.every((f) => colors.includes(f)), `image ${im.index}: ${fills} in ${colors}`).toBe(true);
      expect([...im.stats!.colours].sort()).toEqual(fills);
      expect(im.stats!.bytes).toBe(im.svg!.length);
      expect(im.palette).toBe(0);
    }
    // The texture could not be separated: its SVG says so, and covers the whole image.
    expect(set.images.map((im) => im.warning?.startsWith('background kept: ') ?? false)).toEqual([false, true, false, false]);
    expect(render(text(set.images[TEXTURE].svg!), SIZE).data[3]).toBe(255);
    for (const i of ICONS) expect(render(text(set.images[i].svg!), SIZE).data[3], `corner of image ${i}`).toBe(0);
  });

  it('drop an SVG over the size limit with a warning, leaving the others byte for byte', async () => {
    const full = await run({ format: 'svg', background: 'transparent', palette: 'set' });
    const sizes = full.images.map((im) => im.svg!.length);
    const largest = sizes.indexOf(Math.max(...sizes));
    expect(largest).toBe(TEXTURE);
    const limit = sizes[largest] - 1;
    expect(Math.max(...sizes.filter((_, i) => i !== largest))).toBeLessThanOrEqual(limit);

    const set = await run({ format: 'svg', background: 'transparent', palette: 'set' }, limit);
    const dropped = set.images[TEXTURE];
    expect(dropped.svg).toBeUndefined();
    expect(dropped.warning).toMatch(new RegExp(`^background kept: .+; no SVG: it came to ${sizes[largest]} bytes, over the limit of ${limit} \\(maxSvgBytes\\)$`));
    expect(set.summary.failed).toEqual([{ index: TEXTURE, warning: dropped.warning }]);
    expect(set.summary.palettes.map((p) => p.images)).toEqual([ICONS]);
    for (const i of ICONS) expect(Buffer.from(set.images[i].svg!)).toEqual(Buffer.from(full.images[i].svg!));
  });

  it('with a palette per image, number the palettes that SVGs use', async () => {
    const full = await run({ format: 'svg', background: 'keep', palette: 'image' });
    expect(full.summary.palettes.map((p) => p.images)).toEqual([[0], [1], [2], [3]]);
    const limit = Math.max(...full.images.filter((im) => im.index !== TEXTURE).map((im) => im.svg!.length));
    const set = await run({ format: 'svg', background: 'keep', palette: 'image' }, limit);
    expect(set.summary.palettes.map((p) => p.images)).toEqual([[0], [2], [3]]);
    expect(set.images.map((im) => im.palette)).toEqual([0, undefined, 1, 2]);
    for (const im of set.images.filter((im) => im.svg !== undefined)) {
      const palette = set.summary.palettes[im.palette!];
      expect(palette.images).toEqual([im.index]);
      expect(im.stats!.colours.every((c) => palette.colors.includes(c))).toBe(true);
    }
    // Palettes per image differ: the texture's colours are its own.
    expect(full.summary.palettes[0].colors).not.toEqual(full.summary.palettes[TEXTURE].colors);
  });

  it('stop when the checkpoint throws (a cancel)', async () => {
    const stage = await VectorStage.open({ format: 'svg', background: 'keep', palette: 'set' });
    for (const [index, image] of images.entries()) await stage.add(meta(index), image);
    let calls = 0;
    await expect(
      stage.svgs(async () => {
        if (++calls === 2) throw new CancelledError();
      }),
    ).rejects.toBeInstanceOf(CancelledError);
  });
});

/** 128 px, anti-aliased (4x4 samples): navy on off-white, a disc of radius 20, hatching out to 58. */
function hatchedRing(): Image8 {
  const size = 128;
  const data = new Uint8Array(size * size * 3);
  const background = [250, 250, 246];
  const ink = [30, 50, 150];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let covered = 0;
      for (let sy = 0; sy < 4; sy++) {
        for (let sx = 0; sx < 4; sx++) {
          const px = x + (sx + 0.5) / 4;
          const py = y + (sy + 0.5) / 4;
          const r = Math.hypot(px - 64, py - 64);
          if (r < 20 || (r < 58 && ((px + py) / Math.SQRT2) % 2.5 < 1)) covered++;
        }
      }
      for (let c = 0; c < 3; c++) data[3 * (y * size + x) + c] = Math.round((covered / 16) * ink[c] + (1 - covered / 16) * background[c]);
    }
  }
  return { width: size, height: size, channels: 3, data };
}

describe('an SVG that cannot come within the bound of its PNG', () => {
  it('is still written, with a warning that says by how much', async () => {
    // A disc in a ring of fine diagonal hatching (1 px lines every 2.5 px): cut out, the ring is
    // mostly partly transparent pixels, which binary SVG coverage cannot draw, even from 128 colours.
    const png = hatchedRing();
    const stage = await VectorStage.open({ format: 'both', background: 'transparent', palette: 'set' });
    const cut = await stage.add(meta(0), png);
    expect(cut.transparent).toBe(true);
    const [im] = (await stage.svgs(async () => undefined)).images;
    const svg = text(im.svg!);
    const error = mae(render(svg, png.width), cut.image);
    expect(error).toBeGreaterThan(ORIGINAL_BOUND);
    expect(im.stats!.errorOriginal).toBeCloseTo(error, 6);
    expect(im.warning).toBe(
      `SVG approximate: it differs from its PNG by ${error.toFixed(1)}/255 on average (more than ${ORIGINAL_BOUND}): solid fills cannot draw the PNG's soft, partly transparent or finely shaded parts`,
    );
  });

  it('is not said of SVGs within it', async () => {
    const set = await run({ format: 'both', background: 'transparent', palette: 'set' });
    for (const im of set.images) {
      expect(im.stats!.errorOriginal <= ORIGINAL_BOUND, `image ${im.index}`).toBe(true);
      expect(im.warning ?? '').not.toMatch(/SVG approximate/);
    }
  });
});

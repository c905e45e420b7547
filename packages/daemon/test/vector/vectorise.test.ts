import { describe, expect, it } from 'vitest';
import { createRng, randomIconSpec, renderIcon } from '../../src/icons';
import type { Image8 } from '../../src/image/image8';
import { vectoriseSet, type VectorSet } from '../../src/vector';
import { longHex, mae, paths, render, thinnestBlob } from './support';

const SIZE = 128;

/**
 * Four flat-coloured 128 px icons from the procedural renderer the embedded model is trained on:
 * a stand-in for a clean model's outputs (the test on the embedded model's own outputs is
 * test/vector-embedded-model.test.ts).
 */
function iconSet(seed: number): Image8[] {
  const rng = createRng(seed);
  return Array.from({ length: 4 }, () => {
    const spec = randomIconSpec(rng);
    return { width: SIZE, height: SIZE, channels: 3 as const, data: renderIcon(spec, SIZE).rgb };
  });
}

/** A synthetic photograph: shaded gradients, a wavy texture and per-pixel noise, no flat colour anywhere. */
function photograph(seed: number): Image8 {
  const rng = createRng(seed);
  const data = new Uint8Array(SIZE * SIZE * 3);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const u = x / SIZE;
      const v = y / SIZE;
      const wave = Math.sin(u * 17 + Math.sin(v * 9) * 2) * Math.cos(v * 13 - u * 5);
      const rgb = [60 + 150 * u + 30 * wave, 40 + 120 * v + 40 * wave * u, 180 - 120 * u * v + 25 * wave];
      for (let c = 0; c < 3; c++) data[3 * (y * SIZE + x) + c] = Math.max(0, Math.min(255, Math.round(rgb[c] + 24 * (rng.next() - 0.5))));
    }
  }
  return { width: SIZE, height: SIZE, channels: 3, data };
}

/** The quality bounds, checked on every SVG of a result. */
function expectQuality(set: VectorSet): void {
  for (const [i, image] of set.images.entries()) {
    const svg = image.svg!;
    const { width, height } = image.png;
    expect(svg).toMatch(new RegExp(`viewBox="0 0 ${width} ${height}"`));
    expect(svg).not.toMatch(/<image|data:|href=/);
    const rendered = render(svg, width);
    expect(mae(rendered, image.quantised!), `image ${i} vs its quantised raster`).toBeLessThanOrEqual(6);
    expect(mae(rendered, image.png), `image ${i} vs its PNG`).toBeLessThanOrEqual(10);
    // Every fill is a colour of the image's palette, and one path per colour.
    const palette = set.palettes[image.palette!].map((c) => c.hex);
    const fills = paths(svg).map((p) => longHex(p.fill));
    expect(fills.every((f) => palette.includes(f))).toBe(true);
    expect(new Set(fills).size).toBe(fills.length);
    expect(image.stats!.paths).toBe(fills.length);
    expect(image.stats!.bytes).toBe(Buffer.byteLength(svg));
    expect(thinnestBlob(svg, width, height), `image ${i}: a path thinner than one source pixel`).toBeGreaterThanOrEqual(0.75);
  }
}

describe('vectoriseSet on clean 128 px icons', () => {
  it('makes transparent PNGs and SVGs from one shared palette, small and faithful', async () => {
    const images = iconSet(21);
    const set = await vectoriseSet(images, { background: 'transparent', svg: true, palette: 'set' });
    expect(set.palettes).toHaveLength(1);
    expect(set.palettes[0].length).toBeLessThanOrEqual(16);
    expect(set.images.every((im) => im.palette === 0 && im.separated && im.png.channels === 4)).toBe(true);
    expectQuality(set);
    for (const image of set.images) {
      expect(image.stats!.bytes).toBeLessThanOrEqual(20 * 1024);
      // No background shape: the rendered SVG is transparent in the corners, as the PNG is.
      const r = render(image.svg!, SIZE);
      for (const p of [0, SIZE - 1, SIZE * (SIZE - 1), SIZE * SIZE - 1]) {
        expect(r.data[4 * p + 3]).toBe(0);
        expect(image.png.data[4 * p + 3]).toBe(0);
      }
    }
    // Every colour listed is used by some image.
    const used = new Set(set.images.flatMap((im) => im.stats!.colours));
    expect(used.size).toBe(set.palettes[0].length);
  });

  it('keeps the background as the bottom path when asked to', async () => {
    const images = iconSet(22);
    const set = await vectoriseSet(images, { background: 'keep', svg: true, palette: 'set' });
    expectQuality(set);
    for (const [i, image] of set.images.entries()) {
      expect(image.png).toBe(images[i]);
      const r = render(image.svg!, SIZE);
      expect(r.data[3]).toBe(255);
      // The bottom path is the background's colour (the corner pixel's colour).
      const bottom = longHex(paths(image.svg!)[0].fill);
      const corner = `#${Array.from(images[i].data.subarray(0, 3), (v) => v.toString(16).padStart(2, '0')).join('')}`;
      const palette = set.palettes[0];
      const nearestToCorner = palette.reduce((best, c) =>
        Math.hypot(...c.rgb.map((v, k) => v - images[i].data[k])) < Math.hypot(...best.rgb.map((v, k) => v - images[i].data[k])) ? c : best,
      );
      expect(bottom, `corner ${corner}`).toBe(nearestToCorner.hex);
    }
  });

  it('gives each image its own palette with palette: image', async () => {
    const set = await vectoriseSet(iconSet(23), { background: 'transparent', svg: true, palette: 'image' });
    expect(set.palettes).toHaveLength(4);
    expect(set.images.map((im) => im.palette)).toEqual([0, 1, 2, 3]);
    expectQuality(set);
  });

  it('is deterministic', async () => {
    const a = await vectoriseSet(iconSet(24), { background: 'transparent', svg: true, palette: 'set' });
    const b = await vectoriseSet(iconSet(24), { background: 'transparent', svg: true, palette: 'set' });
    expect(a.images.map((im) => im.svg)).toEqual(b.images.map((im) => im.svg));
  });

  it('only separates when no SVG is asked for', async () => {
    const set = await vectoriseSet(iconSet(25), { background: 'transparent', svg: false, palette: 'set' });
    expect(set.palettes).toEqual([]);
    expect(set.images.every((im) => im.svg === undefined && im.separated)).toBe(true);
  });
});

describe('vectoriseSet on bad input', () => {
  it('still succeeds on a photographic image, with more paths, within the same bounds', async () => {
    const icons = await vectoriseSet(iconSet(26), { background: 'keep', svg: true, palette: 'set' });
    const photo = await vectoriseSet([photograph(1)], { background: 'keep', svg: true, palette: 'set' });
    expectQuality(photo);
    const iconSubpaths = Math.max(...icons.images.map((im) => im.stats!.subpaths));
    expect(photo.images[0].stats!.subpaths).toBeGreaterThan(iconSubpaths);
  });

  it('keeps the background of an image it cannot separate, with a warning, and still traces it', async () => {
    const photo = photograph(2);
    const set = await vectoriseSet([photo, ...iconSet(27).slice(0, 1)], { background: 'transparent', svg: true, palette: 'set' });
    const [kept, icon] = set.images;
    expect(kept.separated).toBe(false);
    expect(kept.warning).toMatch(/photograph/);
    expect(kept.png).toBe(photo);
    expect(render(kept.svg!, SIZE).data[3]).toBe(255);
    expect(icon.separated).toBe(true);
    expect(icon.warning).toBeUndefined();
    expectQuality(set);
  });
});

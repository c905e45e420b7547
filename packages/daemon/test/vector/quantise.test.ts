import { describe, expect, it } from 'vitest';
import { imageToOklab, srgbToOklab } from '../../src/vector/oklab';
import type { PaletteColour } from '../../src/vector/palette';
import { meanAbsoluteError } from '../../src/vector/compare';
import { assignColours, drawnColours, drawnMask, flatness, mergeSpecks, TRANSPARENT } from '../../src/vector/quantise';

const colour = (rgb: [number, number, number]): PaletteColour => ({ lab: srgbToOklab(...rgb), rgb, hex: '' });

describe('drawnColours', () => {
  it('composites partly covered pixels over mid-grey and keeps opaque ones (hand-computed)', () => {
    // (200, 0, 100) at α = 51/255 = 0.2: 0.2·200 + 0.8·127.5 = 142, 0 + 102 = 102, 20 + 102 = 122.
    const image = { width: 2, height: 1, channels: 4 as const, data: Uint8Array.from([200, 0, 100, 51, 10, 20, 30, 255]) };
    expect(Array.from(drawnColours(image))).toEqual([142, 102, 122, 10, 20, 30]);
    const opaque = { width: 1, height: 1, channels: 3 as const, data: Uint8Array.from([1, 2, 3]) };
    expect(drawnColours(opaque)).toBe(opaque.data);
  });

  it.each([
    ['dark', 20],
    ['light', 235],
  ])('draws %s rims opaque with less error, as seen on black or white, than their own colour does', (_, v) => {
    // Own colour F errs by (1 - α)·(255 - F) on white for a dark rim (on black for a light one);
    // the matte colour by (1 - α)·127.5 on both.
    const alphas = [128, 160, 200, 240];
    const n = alphas.length;
    const image = { width: n, height: 1, channels: 4 as const, data: Uint8Array.from(alphas.flatMap((a) => [v, v, v, a])) };
    const opaqueWith = (rgb: ArrayLike<number>) => ({
      width: n,
      height: 1,
      channels: 4 as const,
      data: Uint8Array.from(alphas.flatMap((_, p) => [rgb[3 * p], rgb[3 * p + 1], rgb[3 * p + 2], 255])),
    });
    const matte = meanAbsoluteError(opaqueWith(drawnColours(image)), image);
    expect(matte).toBeCloseTo(alphas.reduce((s, a) => s + (1 - a / 255) * 127.5, 0) / n, 0);
    const own = meanAbsoluteError(opaqueWith(alphas.flatMap(() => [v, v, v])), image);
    expect(own).toBeCloseTo(alphas.reduce((s, a) => s + (1 - a / 255) * 235, 0) / n, 0);
    expect(matte).toBeLessThan(own);
  });
});

describe('mergeSpecks', () => {
  it('merges regions under the minimum into the neighbour with the longest shared border (hand-worked grid)', () => {
    // 0 0 0 0 0
    // 0 1 0 2 2
    // 0 0 0 2 2
    // 3 3 0 2 2
    const index = Uint8Array.from([0, 0, 0, 0, 0, 0, 1, 0, 2, 2, 0, 0, 0, 2, 2, 3, 3, 0, 2, 2]);
    const merged = mergeSpecks(index, 5, 4, 3);
    // The single 1 is surrounded by 0; the pair of 3s touches 0 on three sides (above, right... ),
    // and the image edge on the others: both become 0. The six 2s stay.
    expect(merged).toBe(2);
    expect(Array.from(index)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 0, 0, 0, 2, 2, 0, 0, 0, 2, 2]);
  });

  it('treats transparency as a region: a speck of colour in it disappears, a pinhole in a shape closes', () => {
    const T = TRANSPARENT;
    const index = Uint8Array.from([T, T, T, T, 4, T, 5, 5, 5, 5, T, 5, 5, 5, 5, 5]);
    mergeSpecks(index, 4, 4, 3);
    expect(Array.from(index)).toEqual([T, T, T, T, T, T, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5]);
  });

  it('leaves an image whose regions are all large enough unchanged', () => {
    const index = Uint8Array.from([1, 1, 2, 2, 1, 1, 2, 2]);
    expect(mergeSpecks(index, 4, 2, 3)).toBe(0);
    expect(Array.from(index)).toEqual([1, 1, 2, 2, 1, 1, 2, 2]);
  });
});

describe('assignColours', () => {
  // A red half and a blue half with one column of anti-aliased purple between them, and a palette
  // that has a purple too (another icon of the set uses it).
  const width = 9;
  const height = 4;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set(x < 4 ? [220, 20, 20] : x === 4 ? [120, 20, 120] : [20, 20, 220], 3 * (y * width + x));
  }
  const image = { width, height, channels: 3 as const, data };
  const lab = imageToOklab(data, 3);
  const drawn = drawnMask(image);
  const palette = [colour([220, 20, 20]), colour([20, 20, 220]), colour([120, 20, 120])];

  it('gives edge pixels a colour of their flat neighbours, not a third palette colour', () => {
    const index = assignColours(lab, drawn, flatness(lab, drawn, width, height), width, height, palette);
    for (let y = 0; y < height; y++) {
      expect(index[y * width + 3]).toBe(0);
      expect([0, 1]).toContain(index[y * width + 4]);
      expect(index[y * width + 5]).toBe(1);
    }
  });

  it('without flatness every pixel takes its nearest colour (the purple column stays purple)', () => {
    const index = assignColours(lab, drawn, undefined, width, height, palette);
    for (let y = 0; y < height; y++) expect(index[y * width + 4]).toBe(2);
  });

  it('leaves pixels under 50% alpha transparent', () => {
    const rgba = new Uint8Array([10, 10, 10, 255, 10, 10, 10, 127, 10, 10, 10, 128]);
    const img = { width: 3, height: 1, channels: 4 as const, data: rgba };
    const l = imageToOklab(rgba, 4);
    const d = drawnMask(img);
    expect(Array.from(assignColours(l, d, flatness(l, d, 3, 1), 3, 1, [colour([10, 10, 10])]))).toEqual([0, TRANSPARENT, 0]);
  });

  it('weighs edges low: flatness is 1 on flat colour and small across a strong edge', () => {
    const f = flatness(lab, drawn, width, height);
    expect(f[0]).toBe(1);
    expect(f[4]).toBeLessThan(0.1);
  });
});

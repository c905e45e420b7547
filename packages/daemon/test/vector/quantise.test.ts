import { describe, expect, it } from 'vitest';
import { imageToOklab, srgbToOklab } from '../../src/vector/oklab';
import type { PaletteColour } from '../../src/vector/palette';
import { assignColours, drawnMask, flatness, mergeSpecks, TRANSPARENT } from '../../src/vector/quantise';

const colour = (rgb: [number, number, number]): PaletteColour => ({ lab: srgbToOklab(...rgb), rgb, hex: '' });

describe('mergeSpecks', () => {
  it('with nearest, merges a speck into the neighbouring colour nearest its own, not the longest border', () => {
    // 1 1 1
    // 1 2 1      the 2 is a lone pixel drawn in a dark red: three borders with blue (1), one with red (0)
    // 0 0 0
    const palette = [colour([220, 30, 30]), colour([30, 60, 200]), colour([150, 20, 20])];
    const index = Uint8Array.from([1, 1, 1, 1, 2, 1, 0, 0, 0]);
    const lab = new Float32Array(27);
    index.forEach((v, p) => lab.set(palette[v].lab, 3 * p));
    const byBorder = index.slice();
    mergeSpecks(byBorder, 3, 3, 2);
    expect(byBorder[4]).toBe(1);
    const byColour = index.slice();
    expect(mergeSpecks(byColour, 3, 3, 2, { lab, palette })).toBe(1);
    expect(Array.from(byColour)).toEqual([1, 1, 1, 1, 0, 1, 0, 0, 0]);
    // With only transparency around, a speck goes transparent.
    const alone = new Uint8Array(9).fill(TRANSPARENT);
    alone[4] = 2;
    mergeSpecks(alone, 3, 3, 2, { lab, palette });
    expect(alone[4]).toBe(TRANSPARENT);
  });

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

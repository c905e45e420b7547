import { describe, expect, it } from 'vitest';
import { imageToOklab, oklabToSrgb, srgbToOklab } from '../../src/vector/oklab';

/*
 * Reference values: OKLab of the sRGB primaries and white as published with the colour space
 * (Ottosson 2020) and used by CSS Color 4 / colorjs (e.g. red = oklab(0.62796 0.22486 0.12585)).
 */
const REFERENCE: [string, [number, number, number], [number, number, number]][] = [
  ['white', [255, 255, 255], [1.0, 0.0, 0.0]],
  ['red', [255, 0, 0], [0.62796, 0.22486, 0.12585]],
  ['green', [0, 255, 0], [0.86644, -0.23389, 0.1795]],
  ['blue', [0, 0, 255], [0.45201, -0.03246, -0.31153]],
  ['black', [0, 0, 0], [0, 0, 0]],
];

describe('OKLab', () => {
  it.each(REFERENCE)('converts %s to the published value', (_, rgb, lab) => {
    const got = srgbToOklab(...rgb);
    for (let c = 0; c < 3; c++) expect(got[c]).toBeCloseTo(lab[c], 4);
  });

  it('is neutral on greys (a = b = 0) and monotone in lightness', () => {
    let previous = -1;
    for (let v = 0; v <= 255; v++) {
      const [L, a, b] = srgbToOklab(v, v, v);
      expect(Math.abs(a)).toBeLessThan(1e-6);
      expect(Math.abs(b)).toBeLessThan(1e-6);
      expect(L).toBeGreaterThan(previous);
      previous = L;
    }
  });

  it('round-trips every 8-bit colour on a 17-step grid exactly', () => {
    for (let r = 0; r <= 255; r += 15) {
      for (let g = 0; g <= 255; g += 15) {
        for (let b = 0; b <= 255; b += 15) expect(oklabToSrgb(srgbToOklab(r, g, b))).toEqual([r, g, b]);
      }
    }
  });

  it('clamps colours outside the sRGB gamut', () => {
    expect(oklabToSrgb([1.2, 0, 0])).toEqual([255, 255, 255]);
    expect(oklabToSrgb([0.5, 0.4, 0])).toEqual(expect.arrayContaining([0]));
  });

  it('converts images pixel by pixel, RGB and RGBA alike', () => {
    const rgb = new Uint8Array([255, 0, 0, 0, 0, 255, 255, 0, 0]);
    const rgba = new Uint8Array([255, 0, 0, 9, 0, 0, 255, 200, 255, 0, 0, 0]);
    const a = imageToOklab(rgb, 3);
    const b = imageToOklab(rgba, 4);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(a[0]).toBeCloseTo(0.62796, 4);
    expect(a[5]).toBeCloseTo(-0.31153, 4);
    expect(Array.from(a.subarray(6))).toEqual(Array.from(a.subarray(0, 3)));
  });
});

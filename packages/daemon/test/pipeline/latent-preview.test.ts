import { describe, expect, it } from 'vitest';
import { blockNoiseLatents, fitLatentToRgb, latentsToRgb, previewStrip } from '../../src/pipeline/latent-preview';

describe('latent previews', () => {
  // An affine latent->colour map with 3 channels, and latents [2, 3, 2, 2].
  const weights = [0.5, -0.2, 0.1, 0, 0.3, 0.3, -0.4, 0.2, 0];
  const bias = [0.1, -0.05, 0.2];
  // Scattered values (a sine of i alone would make the channels linearly dependent: no unique fit).
  const latents = { data: Float32Array.from({ length: 24 }, (_, i) => (((Math.sin(i * 12.9898) * 43758.5453) % 1) * 3)), dims: [2, 3, 2, 2] };
  const colourOf = (b: number, colour: number, y: number, x: number) =>
    bias[colour] + [0, 1, 2].reduce((sum, c) => sum + weights[colour * 3 + c] * latents.data[((b * 3 + c) * 2 + y) * 2 + x], 0);

  it('fits the exact map back from pixels that are its output, each latent pixel a 2x2 block', () => {
    // Decoded pixels: each latent pixel's colour, plus a zero-mean pattern inside its block.
    const pixels = new Float32Array(2 * 3 * 4 * 4);
    for (let b = 0; b < 2; b++) for (let colour = 0; colour < 3; colour++) for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) {
      const texture = ((x + y) % 2 === 0 ? 0.05 : -0.05);
      pixels[((b * 3 + colour) * 4 + y) * 4 + x] = colourOf(b, colour, y >> 1, x >> 1) + texture;
    }
    const map = fitLatentToRgb(latents, { data: pixels, dims: [2, 3, 4, 4] });
    expect(map.channels).toBe(3);
    [...map.weights].forEach((v, i) => expect(v).toBeCloseTo(weights[i], 5));
    [...map.bias].forEach((v, i) => expect(v).toBeCloseTo(bias[i], 5));
    expect(() => fitLatentToRgb(latents, { data: pixels.subarray(0, 72), dims: [2, 3, 3, 4] })).toThrow(/do not cover/);

    const colours = latentsToRgb(map, latents);
    expect(colours.dims).toEqual([2, 3, 2, 2]);
    for (let b = 0; b < 2; b++) for (let colour = 0; colour < 3; colour++) for (let y = 0; y < 2; y++) for (let x = 0; x < 2; x++) {
      const expected = Math.min(1, Math.max(-1, colourOf(b, colour, y, x)));
      expect(colours.data[((b * 3 + colour) * 2 + y) * 2 + x]).toBeCloseTo(expected, 5);
    }
  });

  it('lays the images side by side, each latent pixel a block at least minTile high in all', () => {
    // Two 2x2 images, one colour value per pixel: image b, pixel (y, x) = 10b + 2y + x (all colours alike).
    const data = new Float32Array(2 * 3 * 4);
    for (let b = 0; b < 2; b++) for (let colour = 0; colour < 3; colour++) for (let p = 0; p < 4; p++) data[(b * 3 + colour) * 4 + p] = 10 * b + p;
    const strip = previewStrip({ data, dims: [2, 3, 2, 2] }, 4);
    expect(strip.dims).toEqual([1, 3, 4, 8]);
    const at = (y: number, x: number) => strip.data[y * 8 + x];
    expect([at(0, 0), at(1, 1), at(0, 2), at(3, 3), at(0, 4), at(3, 7)]).toEqual([0, 0, 1, 3, 10, 13]);
    expect(previewStrip({ data, dims: [2, 3, 2, 2] }, 1).dims).toEqual([1, 3, 2, 4]);
  });
});

describe('blockNoiseLatents', () => {
  it('is unit noise, constant over each block and independent between blocks', () => {
    const latents = blockNoiseLatents(3, 8, 8, 4, 0);
    expect(latents.dims).toEqual([8, 3, 8, 8]);
    const blocks = new Map<string, number[]>();
    for (let i = 0; i < latents.data.length; i++) {
      const x = i % 8;
      const y = Math.floor(i / 8) % 8;
      const plane = Math.floor(i / 64);
      const key = `${plane}:${Math.floor(y / 4)}:${Math.floor(x / 4)}`;
      blocks.set(key, [...(blocks.get(key) ?? []), latents.data[i]]);
    }
    expect(blocks.size).toBe(8 * 3 * 4);
    const values = [...blocks.values()].map((v) => {
      expect(new Set(v).size).toBe(1);
      return v[0];
    });
    expect(new Set(values).size).toBe(values.length);
    const mean = values.reduce((a, v) => a + v, 0) / values.length;
    const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length);
    // 96 draws: the mean within 4 standard errors of 0, the spread within 35% of 1.
    expect(Math.abs(mean)).toBeLessThan(0.41);
    expect(sd).toBeGreaterThan(0.65);
    expect(sd).toBeLessThan(1.35);
  });
});

import { describe, expect, it } from 'vitest';
import { float16BitsToFloat32, float16ToFloat32, float32ToFloat16, float32ToFloat16Bits } from '../../src/onnx';

// Expected bit patterns were cross-checked with numpy's float32 -> float16 cast (round to nearest even).
const encodings: [number, number][] = [
  [0, 0x0000],
  [-0, 0x8000],
  [1, 0x3c00],
  [-2, 0xc000],
  [0.5, 0x3800],
  [0.1, 0x2e66],
  [1 / 3, 0x3555],
  [Math.PI, 0x4248],
  [65504, 0x7bff], // largest finite half
  [65519.99, 0x7bff], // just below the midpoint to infinity
  [65520, 0x7c00], // the midpoint rounds to even: infinity
  [1e6, 0x7c00],
  [Infinity, 0x7c00],
  [-Infinity, 0xfc00],
  [2 ** -14, 0x0400], // smallest normal
  [1023 * 2 ** -24, 0x03ff], // largest subnormal
  [2 ** -24, 0x0001], // smallest subnormal
  [2 ** -25, 0x0000], // tie between 0 and the smallest subnormal: even is 0
  [2 ** -25 * 1.0000001, 0x0001],
  [3 * 2 ** -25, 0x0002], // tie between 1 and 2 ulps: even is 2
  [1e-8, 0x0000],
  [-1e-8, 0x8000],
  [1 + 2 ** -11, 0x3c00], // tie: even mantissa kept
  [1 + 3 * 2 ** -11, 0x3c02], // tie: rounds up to the even mantissa
  [2 ** -14 - 2 ** -25, 0x0400], // rounding carries out of the subnormals into the smallest normal
];

describe('float16', () => {
  it.each(encodings)('encodes %d as bit pattern %i', (value, bits) => {
    expect(float32ToFloat16Bits(value)).toBe(bits);
  });

  it('keeps NaN a NaN, in both directions', () => {
    const bits = float32ToFloat16Bits(NaN);
    expect(bits & 0x7c00).toBe(0x7c00);
    expect(bits & 0x03ff).not.toBe(0);
    expect(float16BitsToFloat32(0x7e00)).toBeNaN();
    expect(float16BitsToFloat32(0xfc01)).toBeNaN();
  });

  it('decodes known patterns exactly', () => {
    expect(float16BitsToFloat32(0x3c00)).toBe(1);
    expect(float16BitsToFloat32(0x3555)).toBe(0.333251953125);
    expect(float16BitsToFloat32(0x7bff)).toBe(65504);
    expect(float16BitsToFloat32(0x0001)).toBe(2 ** -24);
    expect(float16BitsToFloat32(0x03ff)).toBe(1023 * 2 ** -24);
    expect(float16BitsToFloat32(0x0400)).toBe(2 ** -14);
    expect(float16BitsToFloat32(0x7c00)).toBe(Infinity);
    expect(float16BitsToFloat32(0xfc00)).toBe(-Infinity);
    expect(Object.is(float16BitsToFloat32(0x8000), -0)).toBe(true);
  });

  it('round-trips every non-NaN half through float32 and back', () => {
    const all = Uint16Array.from({ length: 0x10000 }, (_, i) => i);
    const back = float32ToFloat16(float16ToFloat32(all));
    const changed = all.filter((h) => back[h] !== h && !((h & 0x7c00) === 0x7c00 && (h & 0x03ff) !== 0));
    expect(changed).toHaveLength(0);
  });

  it('picks the nearest half, ties to even, for arbitrary floats', () => {
    let state = 12345;
    const values = new Float32Array(20000);
    for (let i = 0; i < values.length; i++) {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      // Magnitudes from 2^-27 to 2^16 so subnormals, normals and overflow are all sampled.
      values[i] = (state & 1 ? -1 : 1) * 2 ** (((state >>> 8) % 44) - 28) * (1 + (state >>> 16) / 65536);
    }
    const halves = float32ToFloat16(values);
    const wrong: number[] = [];
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      const h = halves[i];
      if (h !== float32ToFloat16Bits(value)) wrong.push(value);
      if (Math.abs(value) >= 65520) {
        if ((h & 0x7fff) !== 0x7c00) wrong.push(value);
        continue;
      }
      const error = Math.abs(float16BitsToFloat32(h) - value);
      for (const neighbour of [h - 1, h + 1]) {
        if ((neighbour & 0x7fff) >= 0x7c00 || neighbour < 0 || (neighbour & 0x8000) !== (h & 0x8000)) continue;
        const other = Math.abs(float16BitsToFloat32(neighbour) - value);
        if (error > other || (error === other && (h & 1) !== 0)) wrong.push(value);
      }
    }
    expect(wrong).toEqual([]);
  });
});

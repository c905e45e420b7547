import { describe, expect, it } from 'vitest';
import { pixelsToRgb, rgbToPixels } from '../../src/image/convert';
import type { Image8 } from '../../src/image/image8';

describe('RGB <-> NCHW pixels in [-1, 1]', () => {
  it('maps v to v / 127.5 - 1 in NCHW order', () => {
    // 2x1 image: pixel 0 = (0, 51, 255), pixel 1 = (255, 204, 0)
    const image: Image8 = { width: 2, height: 1, channels: 3, data: Uint8Array.from([0, 51, 255, 255, 204, 0]) };
    const t = rgbToPixels([image, image]);
    expect(t.dims).toEqual([2, 3, 1, 2]);
    // R plane (0, 255) -> (-1, 1); G plane (51, 204) -> (-0.6, 0.6); B plane (255, 0) -> (1, -1)
    const expected = [-1, 1, -0.6, 0.6, 1, -1].map(Math.fround);
    expect([...t.data]).toEqual([...expected, ...expected]);
  });

  it('maps back with round(clamp(x/2 + 0.5, 0, 1) · 255)', () => {
    // x: -1 -> 0; 1 -> 255; 0 -> round(127.5) = 128; 0.2 -> round(0.6 · 255 = 153) = 153; 2 -> 255; -3 -> 0
    const pixels = { data: Float32Array.from([-1, 1, 0, 0.2, 2, -3]), dims: [1, 3, 1, 2] };
    const image = pixelsToRgb(pixels);
    expect([image.width, image.height, image.channels]).toEqual([2, 1, 3]);
    // planes R = (-1, 1), G = (0, 0.2), B = (2, -3), interleaved per pixel
    expect([...image.data]).toEqual([0, 128, 255, 255, 153, 0]);
  });

  it('round-trips every 8-bit value and picks the requested batch item', () => {
    const data = Uint8Array.from({ length: 256 * 3 }, (_, i) => Math.floor(i / 3));
    const image: Image8 = { width: 256, height: 1, channels: 3, data };
    const other: Image8 = { ...image, data: data.map((v) => 255 - v) };
    const t = rgbToPixels([image, other]);
    expect(pixelsToRgb(t, 0)).toEqual(image);
    expect(pixelsToRgb(t, 1)).toEqual(other);
    expect(() => pixelsToRgb(t, 2)).toThrow('expected pixels [n, 3, H, W]');
  });
});

import { describe, expect, it } from 'vitest';
import type { Image8 } from '../../src/image/image8';
import { resizeCover } from '../../src/image/resize';

/** A one-channel-looking RGB image: every pixel's three channels carry the same value. */
function grey(width: number, height: number, values: number[]): Image8 {
  return { width, height, channels: 3, data: Uint8Array.from(values.flatMap((v) => [v, v, v])) };
}
const values = (image: Image8) => [...image.data].filter((_, i) => i % 3 === 0);

describe('resizeCover', () => {
  it('keeps an image of the target size unchanged', () => {
    const image = grey(3, 2, [1, 2, 3, 4, 5, 6]);
    expect(resizeCover(image, 3, 2)).toEqual(image);
  });

  it('halves by averaging 2x2 blocks', () => {
    // blocks: (0 10 / 20 30) -> 15, (40 50 / 60 70) -> 55, (80 90 / 100 110) -> 95, (120 130 / 140 150) -> 135
    const image = grey(4, 4, [0, 10, 40, 50, 20, 30, 60, 70, 80, 90, 120, 130, 100, 110, 140, 150]);
    expect(values(resizeCover(image, 2, 2))).toEqual([15, 55, 95, 135]);
  });

  it('crops the centre of a wider image (scale 1: columns 1..2 of 4)', () => {
    // cover scale = max(2/4, 2/2) = 1, so the central 2 columns are kept as they are
    const image = grey(4, 2, [1, 2, 3, 4, 5, 6, 7, 8]);
    expect(values(resizeCover(image, 2, 2))).toEqual([2, 3, 6, 7]);
  });

  it('averages fractional coverage when shrinking by 4/3 (6x4 -> 3x3)', () => {
    // scale = max(3/6, 3/4) = 0.75: the crop is 4x4 starting at x = 1, each output pixel covers 4/3 source pixels.
    // Columns: out 0 covers [1, 2.333): src1 · 1 + src2 · 1/3, divided by 4/3 -> (3·src1 + src2) / 4
    //          out 1 covers [2.333, 3.667): src2 · 2/3 + src3 · 2/3 -> (src2 + src3) / 2
    //          out 2 covers [3.667, 5): src3 · 1/3 + src4 · 1 -> (src3 + 3·src4) / 4
    // Rows use the same weights over rows 0..3.
    // Source rows are constant 0, 40, 80, 160 along x, so the result only depends on rows:
    //   row 0: (3·0 + 40)/4 = 10; row 1: (40 + 80)/2 = 60; row 2: (80 + 3·160)/4 = 140
    const rows = [0, 40, 80, 160];
    const image = grey(6, 4, rows.flatMap((r) => new Array(6).fill(r)));
    expect(values(resizeCover(image, 3, 3))).toEqual([10, 10, 10, 60, 60, 60, 140, 140, 140]);
    // and columns (constant down the rows) 0, 40, 80, 120, 160, 200 -> (3·40 + 80)/4 = 50, (80 + 120)/2 = 100, (120 + 3·160)/4 = 150
    const cols = grey(6, 4, new Array(4).fill([0, 40, 80, 120, 160, 200]).flat());
    expect(values(resizeCover(cols, 3, 3))).toEqual([50, 100, 150, 50, 100, 150, 50, 100, 150]);
  });

  it('enlarges bilinearly between pixel centres, clamping at the edges (2 -> 4)', () => {
    // output centres map to source x = (i + 0.5)/2 - 0.5 = -0.25, 0.25, 0.75, 1.25:
    // 0 (clamped), 0.75·0 + 0.25·200 = 50, 0.25·0 + 0.75·200 = 150, 200 (clamped)
    const image = grey(2, 1, [0, 200]);
    const out = resizeCover(image, 4, 2);
    expect(values(out)).toEqual([0, 50, 150, 200, 0, 50, 150, 200]);
  });

  it('keeps RGBA channels apart', () => {
    const image: Image8 = { width: 2, height: 2, channels: 4, data: Uint8Array.from([10, 20, 30, 40, 30, 40, 50, 60, 10, 20, 30, 40, 30, 40, 50, 60]) };
    expect([...resizeCover(image, 1, 1).data]).toEqual([20, 30, 40, 50]);
  });
});

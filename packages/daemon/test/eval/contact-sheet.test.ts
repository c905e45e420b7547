import { describe, expect, it } from 'vitest';
import { contactSheet } from '../../src/eval/contact-sheet';
import { uniformImage } from './support';

describe('contactSheet', () => {
  it('lays rows of blocks of tiles out with gaps, upscaled', () => {
    const red = uniformImage([255, 0, 0], 2);
    const blue = uniformImage([0, 0, 255], 2);
    const layout = { scale: 2, gap: 1, blockGap: 3, background: [0, 0, 0] as const };
    const sheet = contactSheet(
      [
        [[red, red], [blue]],
        [[blue], [red]],
      ],
      layout,
    );
    // Row: 1 + 4 + 1 + 4 (block 1) + 3 + 4 (block 2) + 1 = 18; two rows of 4 plus three gaps = 11.
    expect([sheet.width, sheet.height, sheet.channels]).toEqual([18, 11, 3]);
    const at = (x: number, y: number) => [...sheet.data.subarray((y * sheet.width + x) * 3, (y * sheet.width + x) * 3 + 3)];
    expect(at(0, 0)).toEqual([0, 0, 0]);
    expect(at(1, 1)).toEqual([255, 0, 0]);
    expect(at(4, 4)).toEqual([255, 0, 0]);
    expect(at(5, 1)).toEqual([0, 0, 0]);
    expect(at(6, 1)).toEqual([255, 0, 0]);
    expect(at(13, 1)).toEqual([0, 0, 255]);
    expect(at(12, 1)).toEqual([0, 0, 0]);
    expect(at(1, 6)).toEqual([0, 0, 255]);
    expect(at(8, 6)).toEqual([255, 0, 0]);
  });
});

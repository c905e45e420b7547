import { describe, expect, it } from 'vitest';
import { gridLayout } from '../packages/figma-plugin/src/layout';
import { progressFraction } from '../packages/figma-plugin/src/progress';
import { describeSelection } from '../packages/figma-plugin/src/selection';
import { summarize } from '../packages/figma-plugin/src/summary';

describe('gridLayout', () => {
  it('puts four square images in a square frame as a centred 2x2 grid', () => {
    // gap = 4% of 400 = 16; cell = (400 - 3 * 16) / 2 = 176.
    expect(gridLayout({ width: 400, height: 400 }, 4)).toEqual({
      columns: 2,
      rows: 2,
      boxes: [
        { x: 16, y: 16, width: 176, height: 176 },
        { x: 208, y: 16, width: 176, height: 176 },
        { x: 16, y: 208, width: 176, height: 176 },
        { x: 208, y: 208, width: 176, height: 176 },
      ],
    });
  });

  it('puts them in one row in a wide frame, centred horizontally', () => {
    // gap 12; height allows 300 - 24 = 276, width allows (1200 - 60) / 4 = 285; the grid is
    // 4 * 276 + 3 * 12 = 1140 wide, so 30 from either side.
    const grid = gridLayout({ width: 1200, height: 300 }, 4);
    expect(grid).toMatchObject({ columns: 4, rows: 1 });
    expect(grid.boxes.map((b) => [b.x, b.y, b.width, b.height])).toEqual([
      [30, 12, 276, 276],
      [318, 12, 276, 276],
      [606, 12, 276, 276],
      [894, 12, 276, 276],
    ]);
  });

  it('leaves the last row short and left-aligned when the count does not fill it', () => {
    const grid = gridLayout({ width: 500, height: 500 }, 5);
    expect(grid).toMatchObject({ columns: 3, rows: 2 });
    expect(grid.boxes[3].x).toBe(grid.boxes[0].x);
    expect(grid.boxes[4].x).toBe(grid.boxes[1].x);
  });

  it('keeps every cell inside the frame, at the images’ aspect ratio', () => {
    for (const [width, height, count, aspect] of [[375, 812, 7, 1], [1440, 900, 64, 1], [200, 200, 3, 16 / 9], [1000, 100, 10, 0.5]]) {
      const grid = gridLayout({ width, height }, count, aspect);
      expect(grid.boxes).toHaveLength(count);
      for (const box of grid.boxes) {
        expect(box.x).toBeGreaterThanOrEqual(0);
        expect(box.y).toBeGreaterThanOrEqual(0);
        expect(box.x + box.width).toBeLessThanOrEqual(width);
        expect(box.y + box.height).toBeLessThanOrEqual(height);
        expect(Math.abs(box.width / box.height - aspect)).toBeLessThan(0.05 * aspect + 1 / box.height);
      }
    }
  });

  it('still gives every image a cell in a frame too small for the gaps', () => {
    const grid = gridLayout({ width: 4, height: 4 }, 3);
    expect(grid.boxes.every((box) => box.width >= 1 && box.height >= 1)).toBe(true);
  });

  it('refuses an empty grid', () => {
    expect(() => gridLayout({ width: 100, height: 100 }, 0)).toThrow(RangeError);
  });
});

describe('describeSelection', () => {
  const frame = { type: 'FRAME', name: 'Tab bar', width: 375.4, height: 83 };

  it('names the one selected frame and its rounded size', () => {
    expect(describeSelection([frame])).toEqual({ frame: { name: 'Tab bar', width: 375, height: 83 } });
  });

  it('says what to select otherwise', () => {
    expect(describeSelection([])).toEqual({ frame: null, hint: 'Select a frame: the images go inside it.' });
    expect(describeSelection([frame, frame])).toEqual({ frame: null, hint: 'Select one frame, not 2 layers.' });
    expect(describeSelection([{ type: 'BOOLEAN_OPERATION', name: 'Union', width: 1, height: 1 }])).toEqual({
      frame: null,
      hint: '“Union” is a boolean operation: select a frame.',
    });
  });
});

describe('summarize', () => {
  const icons = (placed: number, total: number, frameDeleted = false) => ({ placed, total, frameName: 'Icons', frameDeleted });

  it('counts what was placed, and flags a shortfall or failure as an error', () => {
    expect(summarize({ status: 'done' }, icons(4, 4))).toEqual({ notice: 'Styleset placed 4 images in “Icons”.', status: 'Placed 4 images in “Icons”.', error: false });
    expect(summarize({ status: 'done' }, icons(1, 1)).notice).toBe('Styleset placed 1 image in “Icons”.');
    expect(summarize({ status: 'done' }, icons(3, 4))).toEqual({ notice: 'Styleset placed 3 of 4 images in “Icons”.', status: 'Placed 3 of 4 images in “Icons”.', error: true });
    expect(summarize({ status: 'cancelled' }, icons(2, 4))).toEqual({
      notice: 'Styleset cancelled: 2 of 4 images placed in “Icons”.',
      status: 'Cancelled: 2 of 4 images placed in “Icons”.',
      error: false,
    });
    // The panel's error line already says why a run failed; its status only counts.
    expect(summarize({ status: 'failed', message: 'boom' }, icons(0, 4))).toEqual({ notice: 'Styleset placed nothing: boom', status: '', error: true });
    expect(summarize({ status: 'failed', message: 'boom' }, icons(1, 4))).toEqual({
      notice: 'Styleset placed 1 of 4 images in “Icons”: boom',
      status: 'Placed 1 of 4 images in “Icons”.',
      error: true,
    });
  });

  it('says the frame was deleted and how many images were not placed, however the run ended', () => {
    for (const end of [{ status: 'done' }, { status: 'cancelled' }, { status: 'failed', message: 'boom' }] as const) {
      expect(summarize(end, icons(0, 4, true))).toEqual({
        notice: 'Styleset stopped: the frame “Icons” was deleted; 4 of 4 images were not placed.',
        status: 'Stopped: the frame “Icons” was deleted; 4 of 4 images were not placed.',
        error: true,
      });
    }
    expect(summarize({ status: 'cancelled' }, icons(3, 4, true)).notice).toBe('Styleset stopped: the frame “Icons” was deleted; 1 of 4 images was not placed.');
    // Deleted with the whole set in it, the frame went as the designer chose.
    expect(summarize({ status: 'done' }, icons(4, 4, true))).toEqual(summarize({ status: 'done' }, icons(4, 4)));
  });
});

describe('progressFraction', () => {
  it('rises through the phases in order, denoising taking most of the bar', () => {
    const points = [
      progressFraction('loading', 0, 1),
      progressFraction('loading', 1, 1),
      progressFraction('denoising', 1, 20),
      progressFraction('denoising', 20, 20),
      progressFraction('decoding', 4, 4),
    ];
    expect(points).toEqual([...points].sort((a, b) => a - b));
    expect(points[0]).toBe(0);
    expect(points.at(-1)).toBe(1);
    expect(progressFraction('denoising', 20, 20) - progressFraction('denoising', 0, 20)).toBeGreaterThan(0.5);
  });
});

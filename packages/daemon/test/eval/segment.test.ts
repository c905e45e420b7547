import { describe, expect, it } from 'vitest';
import { deltaE, rgbToLab } from '../../src/eval/color';
import { dilate, erode, fillHoles, largestComponent, maskArea, type Mask } from '../../src/eval/mask';
import { segment } from '../../src/eval/segment';
import { COLOR_NAMES, COLORS, SHAPES, renderIcon } from '../../src/icons/index';
import { image, iouWithCoverage, spec, uniformImage } from './support';

function mask(rows: string[]): Mask {
  const data = Uint8Array.from(rows.join('').split(''), (c) => (c === '#' ? 1 : 0));
  return { width: rows[0].length, height: rows.length, data };
}

function rows(m: Mask): string[] {
  return Array.from({ length: m.height }, (_, y) => [...m.data.subarray(y * m.width, (y + 1) * m.width)].map((v) => (v ? '#' : '.')).join(''));
}

describe('L*a*b*', () => {
  it('matches reference values', () => {
    const close = (a: readonly number[], b: number[]) => a.forEach((v, i) => expect(v).toBeCloseTo(b[i], 1));
    close(rgbToLab(255, 255, 255), [100, 0, 0]);
    close(rgbToLab(0, 0, 0), [0, 0, 0]);
    close(rgbToLab(255, 0, 0), [53.24, 80.09, 67.2]);
    close(rgbToLab(0, 0, 255), [32.3, 79.19, -107.86]);
    expect(deltaE([50, 0, 0], [53, 4, 0])).toBeCloseTo(5);
  });
});

describe('masks', () => {
  it('fills enclosed regions only', () => {
    const ring = mask(['.....', '.###.', '.#.#.', '.###.', '.....']);
    expect(rows(fillHoles(ring))).toEqual(['.....', '.###.', '.###.', '.###.', '.....']);
    const open = mask(['.....', '.#.#.', '.#.#.', '.###.', '.....']);
    expect(rows(fillHoles(open))).toEqual(rows(open));
  });

  it('keeps the largest 8-connected region', () => {
    const specks = mask(['#....', '..#..', '...#.', '..##.', '#....']);
    expect(rows(largestComponent(specks))).toEqual(['.....', '..#..', '...#.', '..##.', '.....']);
    expect(maskArea(largestComponent(mask(['...', '...'])))).toBe(0);
  });

  it('erodes and dilates by the 4-neighbourhood', () => {
    const block = mask(['.....', '.###.', '.###.', '.###.', '.....']);
    expect(rows(erode(block))).toEqual(['.....', '.....', '..#..', '.....', '.....']);
    expect(rows(dilate(mask(['...', '.#.', '...'])))).toEqual(['.#.', '###', '.#.']);
  });
});

describe('segment', () => {
  it.each(SHAPES)('%s: foreground and silhouette match the renderer, filled and outline', (shape) => {
    // The renderer's silhouette with its enclosed holes filled (the gear's axle), as segment defines it.
    const expected = (coverage: Float32Array) =>
      fillHoles({ width: 64, height: 64, data: Uint8Array.from(coverage, (c) => (c >= 0.5 ? 1 : 0)) }).data;
    for (const fill of ['filled', 'outline'] as const) {
      const s = spec(shape, { fill });
      const icon = renderIcon(s, 64);
      const seg = segment(image(s));
      // A one-pixel rim is a large part of a 3 px stroke.
      expect(iouWithCoverage(seg.painted.data, icon.mask)).toBeGreaterThan(fill === 'filled' ? 0.93 : 0.75);
      // The house's door ends exactly on the base line, and the anti-aliased seam there closes it.
      expect(iouWithCoverage(seg.silhouette.data, Float32Array.from(expected(icon.silhouette)))).toBeGreaterThan(shape === 'house' ? 0.85 : 0.94);
    }
  });

  it('reads the background from the border and leaves the drop shadow out, on every background', () => {
    for (const background of COLOR_NAMES) {
      const foreground = background === 'black' ? 'white' : 'black';
      const s = spec('circle', { background, foreground, shadow: true });
      const icon = renderIcon(s, 64);
      const seg = segment(image(s));
      const [r, g, b] = COLORS[background];
      expect(deltaE(seg.background, rgbToLab(r, g, b))).toBeLessThan(1);
      expect(iouWithCoverage(seg.silhouette.data, icon.silhouette)).toBeGreaterThan(0.95);
    }
  });

  it('ignores specks of noise in the background', () => {
    const s = spec('bolt', { background: 'cream', foreground: 'navy' });
    const clean = segment(image(s));
    const noisy = image(s);
    for (const [x, y] of [[3, 3], [60, 5], [8, 57], [58, 58], [30, 2]]) noisy.data.set([0, 0, 0], (y * 64 + x) * 3);
    const seg = segment(noisy);
    expect(seg.silhouette.data).toEqual(clean.silhouette.data);
    expect(seg.painted.data).toEqual(clean.painted.data);
  });

  it('finds nothing in a uniform image', () => {
    const seg = segment(uniformImage([40, 200, 90]));
    expect(maskArea(seg.painted)).toBe(0);
    expect(maskArea(seg.silhouette)).toBe(0);
  });
});

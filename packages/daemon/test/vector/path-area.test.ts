import { describe, expect, it } from 'vitest';
import { cubicCross, lineCross } from '../../src/vector/path-area';

/** Twice a closed path's signed area: its segments' terms, closing line included. */
function twiceArea(start: [number, number], segments: number[][]): number {
  let sum = 0;
  let at = start;
  for (const seg of segments) {
    const end: [number, number] = [seg[seg.length - 2], seg[seg.length - 1]];
    sum += seg.length === 2 ? lineCross(...at, ...end) : cubicCross([...at, ...seg], 0);
    at = end;
  }
  return sum + lineCross(...at, ...start);
}

describe('path area', () => {
  it('is the shoelace area for polygons', () => {
    // A 3 x 2 rectangle, counter-clockwise in y-up terms.
    expect(twiceArea([0, 0], [[3, 0], [3, 2], [0, 2]]) / 2).toBe(6);
    expect(twiceArea([0, 0], [[0, 2], [3, 2], [3, 0]]) / 2).toBe(-6);
  });

  it('is exact for a cubic: a straight one adds what its chord does', () => {
    expect(cubicCross([1, 2, 2, 3, 3, 4, 4, 5], 0)).toBeCloseTo(lineCross(1, 2, 4, 5), 12);
    // The parabola y = x^2 from 0 to 1 as a cubic (control points at 1/3 and 2/3: (1/3, 0), (2/3, 1/3)):
    // closed by the chord back to the origin, the area between is 1/2 - 1/3 = 1/6.
    const parabola = twiceArea([0, 0], [[1 / 3, 0, 2 / 3, 1 / 3, 1, 1]]) / 2;
    expect(Math.abs(parabola)).toBeCloseTo(1 / 6, 12);
  });

  it("is a circle's area for four quarter arcs, where the control polygon overcounts", () => {
    const r = 10;
    const k = 0.5519150244935105 * r; // the best cubic fit of a quarter circle
    const arcs = [
      [r, k, k, r, 0, r],
      [-k, r, -r, k, -r, 0],
      [-r, -k, -k, -r, 0, -r],
      [k, -r, r, -k, r, 0],
    ];
    const area = twiceArea([r, 0], arcs) / 2;
    expect(area / (Math.PI * r * r)).toBeCloseTo(1, 3);
    // The shoelace over all the points, control points as corners, is 10% more.
    const polygon = [[r, 0], ...arcs.flatMap((a) => [[a[0], a[1]], [a[2], a[3]], [a[4], a[5]]])].slice(0, 12);
    const shoelace = polygon.reduce((s, p, i) => s + lineCross(p[0], p[1], polygon[(i + 1) % 12][0], polygon[(i + 1) % 12][1]), 0) / 2;
    expect(shoelace / area).toBeGreaterThan(1.05);
  });
});

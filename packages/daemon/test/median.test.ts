import { describe, expect, it } from 'vitest';
import { median } from '../src/median';
import { createRng } from '../src/rng';

/** The reference: sort a copy, take the middle (or the mean of the two middles). */
function sortedMedian(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

describe('median', () => {
  it('matches a sort on random, repeated, sorted and reversed values, odd and even counts', () => {
    const rng = createRng(11);
    for (let count = 1; count <= 60; count++) {
      const random = Array.from({ length: count }, () => rng.next() * 10 - 5);
      const repeated = Array.from({ length: count }, () => Math.floor(rng.next() * 3));
      const sorted = [...random].sort((a, b) => a - b);
      for (const values of [random, repeated, sorted, [...sorted].reverse(), new Array(count).fill(2.5)]) {
        const scratch = new Float64Array(count);
        expect(median(values, scratch)).toBe(sortedMedian(values));
      }
    }
  });

  it('reads every stride-th value from an offset and leaves the values as they were', () => {
    const triples = Float32Array.from([1, 10, 100, 5, 50, 500, 3, 30, 300, 4, 40, 400]);
    const before = Float32Array.from(triples);
    const scratch = new Float64Array(4);
    expect(median(triples, scratch, 4, 0, 3)).toBe(3.5);
    expect(median(triples, scratch, 4, 1, 3)).toBe(35);
    expect(median(triples, scratch, 3, 2, 3)).toBe(300);
    expect(triples).toEqual(before);
  });

  it('is NaN without values and refuses a scratch too small', () => {
    expect(median([], new Float64Array(0))).toBeNaN();
    expect(() => median([1, 2, 3], new Float64Array(2))).toThrow(/scratch holds 2 values, 3 are needed/);
  });
});

import { describe, expect, it } from 'vitest';
import { comparePaired, summarize } from '../../src/eval/aggregate';

describe('aggregation', () => {
  it('summarizes with the sample standard deviation', () => {
    const s = summarize([1, 2, 3, 4]);
    expect(s.mean).toBe(2.5);
    expect(s.std).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(s.n).toBe(4);
    expect(summarize([0.7])).toEqual({ mean: 0.7, std: 0, n: 1 });
    expect(summarize([])).toEqual({ mean: 0, std: 0, n: 0 });
  });

  it('compares two conditions set by set', () => {
    const a = [0.9, 0.8, 0.4];
    const b = [0.5, 0.6, 0.5];
    const c = comparePaired(a, b);
    expect(c.wins).toBe(2);
    expect(c.n).toBe(3);
    expect(c.difference.mean).toBeCloseTo(0.5 / 3, 12);
    expect(() => comparePaired(a, b.slice(1))).toThrow(/same sets/);
  });
});

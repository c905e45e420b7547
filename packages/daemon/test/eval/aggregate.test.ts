import { describe, expect, it } from 'vitest';
import { comparePaired, normalizedConsistency, summarize, summarizeSets } from '../../src/eval/aggregate';
import type { SetScores } from '../../src/eval/metrics';

const scores = (consistency: number, accuracy = 1): SetScores => ({
  accuracy,
  iou: 0.9,
  consistency,
  consistencyParts: { background: consistency, palette: 1, fill: 0.5, texture: 0 },
  referenceSimilarity: consistency,
  leakage: 0,
});

describe('aggregation', () => {
  it('summarizes with the sample standard deviation', () => {
    const s = summarize([1, 2, 3, 4]);
    expect(s.mean).toBe(2.5);
    expect(s.std).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(s.n).toBe(4);
    expect(summarize([0.7])).toEqual({ mean: 0.7, std: 0, n: 1 });
    expect(summarize([])).toEqual({ mean: 0, std: 0, n: 0 });
  });

  it('summarizes every score of a condition', () => {
    const summary = summarizeSets([scores(0.5, 1), scores(0.7, 0.5)]);
    expect(summary.consistency.mean).toBeCloseTo(0.6, 12);
    expect(summary.accuracy.mean).toBe(0.75);
    expect(summary.leakage).toEqual({ mean: 0, std: 0, n: 2 });
    expect(summary.consistencyParts.background.mean).toBeCloseTo(0.6, 12);
    expect(summary.consistencyParts.fill).toEqual({ mean: 0.5, std: 0, n: 2 });
  });

  it('compares two conditions set by set', () => {
    const a = [scores(0.9), scores(0.8), scores(0.4)];
    const b = [scores(0.5), scores(0.6), scores(0.5)];
    const c = comparePaired(a, b, 'consistency');
    expect(c.wins).toBe(2);
    expect(c.n).toBe(3);
    expect(c.difference.mean).toBeCloseTo(0.5 / 3, 12);
    expect(() => comparePaired(a, b.slice(1), 'consistency')).toThrow(/same sets/);
  });

  it('places a consistency between chance and ceiling', () => {
    expect(normalizedConsistency(0.3, 0.3, 0.9)).toBe(0);
    expect(normalizedConsistency(0.9, 0.3, 0.9)).toBeCloseTo(1, 12);
    expect(normalizedConsistency(0.6, 0.3, 0.9)).toBeCloseTo(0.5, 12);
    expect(normalizedConsistency(0.6, 0.5, 0.5)).toBeUndefined();
  });
});

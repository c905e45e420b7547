import { describe, expect, it } from 'vitest';
import { planSets, shapePrompt } from '../../src/eval/plan';
import { CAPTION_VOCABULARY, captionTokens } from '../../src/icons/index';

describe('planSets', () => {
  it('is a pure function of count, size and seed', () => {
    expect(planSets(5, 4, 9)).toEqual(planSets(5, 4, 9));
    expect(planSets(5, 4, 9)).not.toEqual(planSets(5, 4, 10));
    // A longer plan starts with the shorter one: --sets 40 extends --sets 20.
    expect(planSets(8, 4, 9).slice(0, 5)).toEqual(planSets(5, 4, 9));
  });

  it('draws distinct shapes, a reference of another shape, and non-overlapping seeds', () => {
    const plans = planSets(20, 4, 123);
    const imageSeeds = new Set<number>();
    for (const p of plans) {
      expect(new Set(p.shapes).size).toBe(4);
      expect(p.shapes).not.toContain(p.reference.spec.shape);
      expect(p.prompts).toEqual(p.shapes.map(shapePrompt));
      expect(p.sameStyle.map((s) => s.style)).toEqual(p.shapes.map(() => p.reference.spec.style));
      expect(p.randomStyles.map((s) => s.shape)).toEqual(p.shapes);
      expect(captionTokens(p.reference.caption).every((t) => CAPTION_VOCABULARY.includes(t))).toBe(true);
      for (let i = 0; i < 4; i++) imageSeeds.add(p.seed + i);
    }
    expect(imageSeeds.size).toBe(80);
  });

  it('writes prompts with the right article', () => {
    expect(shapePrompt('star')).toBe('a star icon');
    expect(shapePrompt('arrow')).toBe('an arrow icon');
  });

  it('rejects set sizes it cannot fill with distinct shapes', () => {
    expect(() => planSets(1, 16, 0)).toThrow(/set size/);
    expect(() => planSets(1, 1, 0)).toThrow(/set size/);
  });
});

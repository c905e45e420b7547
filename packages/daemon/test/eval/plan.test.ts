import { describe, expect, it } from 'vitest';
import { iconPrompt, planSets } from '../../src/eval/plan';
import { NAMED_COLORS } from '../../src/eval/reference-icon';

const VOCABULARY = ['home', 'search', 'settings', 'user', 'bell', 'mail', 'image', 'upload', 'arrow left', 'umbrella'];

describe('planSets', () => {
  it('is a pure function of vocabulary, count, size and seed', () => {
    expect(planSets(VOCABULARY, 5, 4, 9)).toEqual(planSets(VOCABULARY, 5, 4, 9));
    expect(planSets(VOCABULARY, 5, 4, 9)).not.toEqual(planSets(VOCABULARY, 5, 4, 10));
    // A longer plan starts with the shorter one: --sets 40 extends --sets 20.
    expect(planSets(VOCABULARY, 8, 4, 9).slice(0, 5)).toEqual(planSets(VOCABULARY, 5, 4, 9));
  });

  it('draws distinct names, a reference of another name, and non-overlapping seeds', () => {
    const plans = planSets(VOCABULARY, 20, 4, 123);
    const imageSeeds = new Set<number>();
    const colors = Object.keys(NAMED_COLORS);
    for (const p of plans) {
      expect(new Set(p.names).size).toBe(4);
      expect(p.names.every((n) => VOCABULARY.includes(n))).toBe(true);
      expect(p.names).not.toContain(p.reference.name);
      expect(p.prompts).toEqual(p.names.map(iconPrompt));
      expect(p.reference.caption.startsWith(`${iconPrompt(p.reference.name)}, ${p.reference.style.foreground} on `)).toBe(true);
      expect([p.reference.style.background, p.reference.style.surface, p.reference.style.foreground].every((c) => colors.includes(c))).toBe(true);
      expect(p.reference.style.foreground).not.toBe(p.reference.style.surface);
      for (let i = 0; i < 4; i++) imageSeeds.add(p.seed + i);
    }
    expect(imageSeeds.size).toBe(80);
  });

  it('writes prompts as the plugins do', () => {
    expect(iconPrompt('home')).toBe('a home icon');
    expect(iconPrompt('image')).toBe('an image icon');
    expect(iconPrompt('upload')).toBe('an upload icon');
    expect(iconPrompt('user')).toBe('a user icon');
    expect(iconPrompt('arrow left')).toBe('an arrow left icon');
  });

  it('rejects set sizes it cannot fill with distinct names', () => {
    expect(() => planSets(VOCABULARY, 1, 10, 0)).toThrow(/set size/);
    expect(() => planSets(VOCABULARY, 1, 1, 0)).toThrow(/set size/);
  });
});

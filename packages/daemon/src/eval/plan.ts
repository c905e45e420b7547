import { randomReferenceStyle, referenceCaption, type ReferenceStyle } from './reference-icon';
import { createRng, sample } from '../rng';

/** One evaluation set: what every condition generates, and the reference image's recipe. */
export interface SetPlan {
  index: number;
  /** Seed of the set's first image; image i uses seed + i in every condition. */
  seed: number;
  /** Distinct vocabulary names, one per image; the first is the reference of generated sets. */
  names: string[];
  /** Name-only prompts ("a home icon"): the style is left to chance, or to sharing. */
  prompts: string[];
  /**
   * The reference-image path's input: the held-out glyph of a name not in the set (so copying its
   * shape shows up as leakage), drawn in a random style, and its caption.
   */
  reference: { name: string; style: ReferenceStyle; caption: string };
}

/**
 * "a home icon", "an image icon", "a user icon": as the Figma plugin and the VS Code extension
 * write prompts ("an" before a vowel sound, "a" before a "u" sounded "you").
 */
export function iconPrompt(name: string): string {
  const an = /^[aeiou]/i.test(name) && !/^(?:u[^aeiou\s][aeiouy]|eu|one\b)/i.test(name);
  return `${an ? 'an' : 'a'} ${name} icon`;
}

/**
 * The evaluation's sets, a pure function of (vocabulary, count, setSize, seed). Image seeds never
 * repeat across sets, so no two sets start from the same noise.
 */
export function planSets(vocabulary: readonly string[], count: number, setSize: number, seed: number): SetPlan[] {
  if (!Number.isInteger(setSize) || setSize < 2 || setSize >= vocabulary.length) {
    throw new Error(`set size must be an integer from 2 to ${vocabulary.length - 1}, got ${setSize}`);
  }
  const rng = createRng(seed);
  return Array.from({ length: count }, (_, index) => {
    const [referenceName, ...names] = sample(rng, vocabulary, setSize + 1);
    const style = randomReferenceStyle(rng);
    return {
      index,
      seed: (seed + index * setSize) >>> 0,
      names,
      prompts: names.map(iconPrompt),
      reference: { name: referenceName, style, caption: referenceCaption(iconPrompt(referenceName), style) },
    };
  });
}

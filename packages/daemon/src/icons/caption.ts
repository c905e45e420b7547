import { COLOR_NAMES } from './palette';
import { chance, type Rng } from './rng';
import { SHAPES } from './shapes';
import { PATTERNS, type IconSpec } from './spec';

/**
 * Every token a caption can contain. Fixed and small: the default model's BPE vocabulary is
 * built from exactly this list, so a word outside it would be split into bytes the model never
 * saw in training.
 */
export const CAPTION_VOCABULARY: readonly string[] = [
  'a',
  'an',
  'icon',
  'on',
  'and',
  'with',
  'shadow',
  'rounded',
  'filled',
  'outline',
  'thin',
  'thick',
  ',',
  ...PATTERNS.filter((p) => p !== 'solid'),
  ...COLOR_NAMES,
  ...SHAPES,
];

/** Probability that a caption names only the shape. */
const SHAPE_ONLY = 0.45;

/**
 * A caption for the icon. Often only the shape ("a star icon"), so that a shape-only prompt
 * leaves the style to chance and a set only agrees through shared attention; otherwise a
 * random subset of the style attributes ("a rounded star icon, red stripes on cream").
 */
export function captionFor(spec: IconSpec, rng: Rng): string {
  const { style } = spec;
  const plain = withArticle([spec.shape, 'icon']);
  if (chance(rng, SHAPE_ONLY)) return plain;

  const adjectives: string[] = [];
  if (style.rounded > 0 && chance(rng, 0.5)) adjectives.push('rounded');
  if (style.fill === 'outline' && chance(rng, 0.75)) {
    if (style.stroke !== 'medium' && chance(rng, 0.6)) adjectives.push(style.stroke);
    adjectives.push('outline');
  } else if (style.fill === 'filled' && chance(rng, 0.25)) {
    adjectives.push('filled');
  }

  const tail: string[] = [];
  if (chance(rng, 0.8)) {
    const colors =
      style.pattern !== 'solid' && chance(rng, 0.4)
        ? `${style.foreground} and ${style.secondary}`
        : style.foreground;
    tail.push(style.pattern === 'solid' ? colors : `${colors} ${style.pattern}`);
  }
  if (chance(rng, 0.7)) tail.push(`on ${style.background}`);
  if (style.shadow && chance(rng, 0.6)) tail.push('with shadow');

  if (adjectives.length === 0 && tail.length === 0) return plain;
  const head = withArticle([...adjectives, spec.shape, 'icon']);
  if (tail.length === 0) return head;
  // A comma only before a colour phrase: "a star icon, red on cream" but "a star icon on cream".
  const joined = tail.join(' ');
  return tail[0].startsWith('on ') || tail[0].startsWith('with ')
    ? `${head} ${joined}`
    : `${head}, ${joined}`;
}

function withArticle(words: string[]): string {
  return `${/^[aeiou]/.test(words[0]) ? 'an' : 'a'} ${words.join(' ')}`;
}

/** Splits a caption into vocabulary tokens (words and commas). */
export function captionTokens(caption: string): string[] {
  return caption.match(/[a-z]+|,/g) ?? [];
}

import { beforeAll, describe, expect, it } from 'vitest';
import { ContentIndex } from '../../src/eval/content';
import { coverageMask, featureSimilarity, glyphFeature } from '../../src/eval/glyph-features';
import { firstNames, loadGlyphLibrary, type GlyphLibrary } from '../../src/eval/glyph-library';
import { drawReferenceIcon, type ReferenceStyle } from '../../src/eval/reference-icon';
import { separateIcon } from '../../src/eval/separate';
import { shapeMask } from './support';

let library: GlyphLibrary;
let index: ContentIndex;
beforeAll(async () => {
  library = await loadGlyphLibrary();
  index = new ContentIndex(library);
});

const disc = (size: number, cx: number, cy: number, r: number) => shapeMask(size, (x, y) => Math.hypot(x - cx, y - cy) <= r);
const ring = (size: number, cx: number, cy: number, r: number, w: number) =>
  shapeMask(size, (x, y) => Math.abs(Math.hypot(x - cx, y - cy) - r) <= w / 2);
const box = (size: number, x0: number, y0: number, x1: number, y1: number) => shapeMask(size, (x, y) => x >= x0 && x <= x1 && y >= y0 && y <= y1);

describe('glyph features', () => {
  it('ignore where a glyph sits and how big it is', () => {
    const a = glyphFeature(ring(128, 64, 64, 40, 6));
    const b = glyphFeature(ring(128, 40, 80, 20, 3));
    expect(featureSimilarity(a, b)).toBeGreaterThan(0.9);
  });

  it('match a filled shape with its outline, and tell shapes apart', () => {
    const filled = glyphFeature(disc(128, 64, 64, 40));
    const outline = glyphFeature(ring(128, 64, 64, 37, 6));
    const square = glyphFeature(box(128, 24, 24, 104, 104));
    expect(featureSimilarity(filled, outline)).toBeGreaterThan(0.85);
    expect(featureSimilarity(filled, square)).toBeLessThan(featureSimilarity(filled, outline) - 0.2);
  });

  it('are unit vectors, and missing for an empty mask', () => {
    const f = glyphFeature(disc(64, 32, 32, 20))!;
    expect(featureSimilarity(f, f)).toBeCloseTo(1, 5);
    expect(glyphFeature(shapeMask(64, () => false))).toBeUndefined();
    expect(featureSimilarity(undefined, f)).toBe(0);
  });
});

describe('content retrieval against the held-out glyphs', () => {
  it('ranks every held-out glyph first for its own name', () => {
    for (const g of library.glyphs.filter((g) => g.set === 'lucide')) {
      expect(index.score(coverageMask(g.coverage, library.size, library.size), g.name).rank).toBe(1);
    }
  });

  it('finds the name of a held-out glyph drawn as a styled icon, through the separation', () => {
    const styles: ReferenceStyle[] = [
      { background: 'white', container: 'none', surface: 'white', foreground: 'black' },
      { background: 'cream', container: 'circle', surface: 'blue', foreground: 'white' },
      { background: 'navy', container: 'rounded square', surface: 'white', foreground: 'red' },
    ];
    const ranks: number[] = [];
    library.glyphs
      .filter((g) => g.set === 'lucide')
      .forEach((g, i) => {
        const parts = separateIcon(drawReferenceIcon(g.coverage, library.size, styles[i % styles.length], 128));
        ranks.push(index.score(parts.glyph, g.name).rank);
      });
    // Drawing at another size and separating blurs a few look-alikes (the arrows, list and menu).
    expect(ranks.filter((r) => r === 1).length / ranks.length).toBeGreaterThan(0.9);
    expect(ranks.filter((r) => r <= 5).length / ranks.length).toBeGreaterThan(0.97);
  });

  it('places the training sets\' own glyphs well above chance: the attainable level', () => {
    const ranks = library.glyphs
      .filter((g) => g.set !== 'lucide')
      .map((g) => index.score(coverageMask(g.coverage, library.size, library.size), g.name).rank);
    // Chance is 1 in the vocabulary's size (147) for top-1, 5 in 147 for top-5.
    expect(ranks.filter((r) => r === 1).length / ranks.length).toBeGreaterThan(0.4);
    expect(ranks.filter((r) => r <= 5).length / ranks.length).toBeGreaterThan(0.6);
  });

  it('ranks nothing for an empty image, and rejects names outside the vocabulary', () => {
    const empty = shapeMask(64, () => false);
    expect(index.score(empty, 'home')).toEqual({ name: 'home', rank: library.names.length + 1, predicted: undefined, similarity: 0 });
    expect(() => index.score(empty, 'unicorn')).toThrow(/not in the vocabulary/);
  });
});

describe('a vocabulary cut to its first names (a curriculum model)', () => {
  it('keeps those names, their words and glyphs only, and retrieves among them', () => {
    const everyday = firstNames(library, 32);
    expect(everyday.names).toEqual(library.names.slice(0, 32));
    expect(everyday.names).toEqual(expect.arrayContaining(['home', 'search', 'settings', 'user', 'heart', 'star', 'play']));
    expect(Object.keys(everyday.words)).toEqual(everyday.names);
    expect(new Set(everyday.glyphs.map((g) => g.name))).toEqual(new Set(everyday.names));
    expect(everyday.glyphs.length).toBe(library.glyphs.filter((g) => everyday.names.includes(g.name)).length);
    const cut = new ContentIndex(everyday);
    const lucide = everyday.glyphs.filter((g) => g.set === 'lucide');
    for (const g of lucide) expect(cut.score(coverageMask(g.coverage, library.size, library.size), g.name).rank).toBe(1);
    // A glyph can only be mistaken for one of the 32: its rank never exceeds them.
    const heart = library.glyphs.find((g) => g.set === 'tabler' && g.name === 'heart')!;
    expect(cut.score(coverageMask(heart.coverage, library.size, library.size), 'heart').rank).toBeLessThanOrEqual(32);
    expect(() => cut.score(shapeMask(64, () => false), 'moon')).toThrow(/not in the vocabulary/);
  });

  it('refuses a count outside the vocabulary, naming the option', () => {
    expect(() => firstNames(library, 1)).toThrow(/--names: expected a whole number from 2 to 147/);
    expect(() => firstNames(library, 148)).toThrow(/--names/);
    expect(() => firstNames(library, 2.5)).toThrow(/--names/);
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import { colorHistogram, histogramDistance, imageStyle, setConsistency, strokeWidth } from '../../src/eval/consistency';
import { loadGlyphLibrary, type GlyphLibrary } from '../../src/eval/glyph-library';
import { drawReferenceIcon, type ReferenceStyle } from '../../src/eval/reference-icon';
import { separateIcon } from '../../src/eval/separate';
import { shapeMask, uniformImage } from './support';

let library: GlyphLibrary;
beforeAll(async () => {
  library = await loadGlyphLibrary();
});

describe('colour histograms', () => {
  it('put a flat image in one bin of 64, and compare by total variation', () => {
    const red = colorHistogram(uniformImage([250, 10, 10]));
    expect(red.length).toBe(64);
    expect(red[(3 * 4 + 0) * 4 + 0]).toBe(1);
    expect(red.reduce((a, b) => a + b, 0)).toBe(1);
    const blue = colorHistogram(uniformImage([10, 10, 250]));
    expect(histogramDistance(red, red)).toBe(0);
    expect(histogramDistance(red, blue)).toBe(1);
    // Half the pixels red, half blue: half way from either.
    const half = uniformImage([250, 10, 10]);
    half.data.fill(0, 0, half.data.length / 2);
    for (let p = 0; p < half.data.length / 6; p++) half.data[3 * p + 2] = 250;
    expect(histogramDistance(colorHistogram(half), red)).toBeCloseTo(0.5, 12);
  });
});

describe('stroke width', () => {
  it('is the width of a long bar, and grows with a filled shape', () => {
    for (const w of [3, 5, 8]) {
      const bar = shapeMask(128, (x, y) => x >= 10 && x < 118 && y >= 60 && y < 60 + w);
      // Ends of the bar add 2w to the edge: 2wL / (2L + 2w - ...) is within 10% for L = 108.
      expect(strokeWidth(bar)).toBeGreaterThan(0.85 * w);
      expect(strokeWidth(bar)).toBeLessThan(1.1 * w);
    }
    const disc = shapeMask(128, (x, y) => Math.hypot(x - 64, y - 64) < 40);
    expect(strokeWidth(disc)).toBeGreaterThan(20);
    expect(strokeWidth(shapeMask(8, () => false))).toBe(0);
  });
});

describe('set consistency', () => {
  const icon = (name: string, style: ReferenceStyle) => {
    const image = drawReferenceIcon(library.glyphs.find((g) => g.set === 'lucide' && g.name === name)!.coverage, library.size, style, 128);
    return imageStyle(image, separateIcon(image));
  };
  const names = ['home', 'search', 'bell', 'camera'];
  const styles: ReferenceStyle[] = [
    { background: 'white', container: 'none', surface: 'white', foreground: 'navy' },
    { background: 'blue', container: 'circle', surface: 'cream', foreground: 'red' },
    { background: 'black', container: 'rounded square', surface: 'orange', foreground: 'white' },
    { background: 'cream', container: 'none', surface: 'cream', foreground: 'green' },
  ];

  it('sees one style across different glyphs as alike, and different styles as apart', () => {
    const shared = setConsistency(names.map((n) => icon(n, styles[1])));
    const mixed = setConsistency(names.map((n, i) => icon(n, styles[i])));
    expect(shared.spread).toBeLessThan(0.15);
    expect(mixed.spread).toBeGreaterThan(0.6);
    expect(shared.backgroundDeltaE).toBeLessThan(1);
    expect(mixed.backgroundDeltaE).toBeGreaterThan(40);
    expect(shared.containerAgreement).toBe(1);
    expect(mixed.containerAgreement).toBeCloseTo(1 / 6, 12);
    expect(shared.glyphDeltaE).toBeLessThan(2);
    expect(shared.strokeAgreement).toBeGreaterThan(0.8);
  });

  it('reads a collapsed set (one glyph repeated) as one shape, a varied one as several', () => {
    const collapsed = setConsistency(names.map(() => icon('home', styles[0])));
    const varied = setConsistency(names.map((n) => icon(n, styles[0])));
    expect(collapsed.shapeSimilarity).toBeGreaterThan(0.99);
    // Icons share a lot of blurred edge energy near the centre, so "varied" is well below 1, not near 0.
    expect(varied.shapeSimilarity).toBeLessThan(collapsed.shapeSimilarity - 0.15);
  });

  it('needs two images', () => {
    expect(() => setConsistency([icon('home', styles[0])])).toThrow(/at least 2/);
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import { deltaE, rgbToLab } from '../../src/eval/color';
import { loadGlyphLibrary, type GlyphLibrary } from '../../src/eval/glyph-library';
import { erode, fillHoles, largestComponent, maskArea, type Mask } from '../../src/eval/mask';
import { NAMED_COLORS, drawReferenceIcon, type ReferenceStyle } from '../../src/eval/reference-icon';
import { separateIcon } from '../../src/eval/separate';
import type { Image8 } from '../../src/image/image8';
import { iou, mask, uniformImage } from './support';

function rows(m: Mask): string[] {
  return Array.from({ length: m.height }, (_, y) => [...m.data.subarray(y * m.width, (y + 1) * m.width)].map((v) => (v ? '#' : '.')).join(''));
}

describe('L*a*b*', () => {
  it('matches reference values', () => {
    const close = (a: readonly number[], b: number[]) => a.forEach((v, i) => expect(v).toBeCloseTo(b[i], 1));
    close(rgbToLab(255, 255, 255), [100, 0, 0]);
    close(rgbToLab(0, 0, 0), [0, 0, 0]);
    close(rgbToLab(255, 0, 0), [53.24, 80.09, 67.2]);
    close(rgbToLab(0, 0, 255), [32.3, 79.19, -107.86]);
    expect(deltaE([50, 0, 0], [53, 4, 0])).toBeCloseTo(5);
  });
});

describe('masks', () => {
  it('fills enclosed regions only', () => {
    const ring = mask(['.....', '.###.', '.#.#.', '.###.', '.....']);
    expect(rows(fillHoles(ring))).toEqual(['.....', '.###.', '.###.', '.###.', '.....']);
    const open = mask(['.....', '.#.#.', '.#.#.', '.###.', '.....']);
    expect(rows(fillHoles(open))).toEqual(rows(open));
  });

  it('keeps the largest 8-connected region', () => {
    const specks = mask(['#....', '..#..', '...#.', '..##.', '#....']);
    expect(rows(largestComponent(specks))).toEqual(['.....', '..#..', '...#.', '..##.', '.....']);
    expect(maskArea(largestComponent(mask(['...', '...'])))).toBe(0);
  });

  it('erodes by the 4-neighbourhood', () => {
    const block = mask(['.....', '.###.', '.###.', '.###.', '.....']);
    expect(rows(erode(block))).toEqual(['.....', '.....', '..#..', '.....', '.....']);
  });
});

const SIZE = 128;
let library: GlyphLibrary;
beforeAll(async () => {
  library = await loadGlyphLibrary();
});

function lucide(name: string): Float32Array {
  return library.glyphs.find((g) => g.set === 'lucide' && g.name === name)!.coverage;
}

/** Where the glyph is, independently of the separation: the pixels the glyph changes. */
function glyphTruth(coverage: Float32Array, style: ReferenceStyle): Mask {
  const withGlyph = drawReferenceIcon(coverage, library.size, style, SIZE);
  const without = drawReferenceIcon(new Float32Array(coverage.length), library.size, style, SIZE);
  const fg = NAMED_COLORS[style.foreground];
  const surface = NAMED_COLORS[style.surface];
  const full = Math.hypot(fg[0] - surface[0], fg[1] - surface[1], fg[2] - surface[2]);
  const data = new Uint8Array(SIZE * SIZE);
  for (let p = 0; p < SIZE * SIZE; p++) {
    const d = Math.hypot(...[0, 1, 2].map((c) => withGlyph.data[3 * p + c] - without.data[3 * p + c]));
    data[p] = d >= full / 2 ? 1 : 0;
  }
  return { width: SIZE, height: SIZE, data };
}

function lab(rgb: readonly number[]) {
  return rgbToLab(rgb[0], rgb[1], rgb[2]);
}

describe('separateIcon', () => {
  it('finds nothing on a plain background, and reads its colour', () => {
    const parts = separateIcon(uniformImage([36, 120, 230], SIZE));
    expect(maskArea(parts.glyph)).toBe(0);
    expect(parts.container.kind).toBe('none');
    expect(deltaE(parts.background.center, lab([36, 120, 230]))).toBeLessThan(0.01);
    expect(parts.glyphColor).toBeUndefined();
  });

  it('fits a gradient background as a plane: nothing on it counts as icon', () => {
    const data = new Uint8Array(SIZE * SIZE * 3);
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const t = (x + y) / (2 * SIZE - 2);
        // Navy to a lighter navy, as the training styles' gradients (up to half way to white).
        const rgb = [24 + t * 115, 36 + t * 109, 96 + t * 80];
        data.set(rgb.map(Math.round), 3 * (y * SIZE + x));
      }
    }
    const parts = separateIcon({ width: SIZE, height: SIZE, channels: 3, data });
    expect(maskArea(parts.glyph)).toBe(0);
    expect(parts.container.kind).toBe('none');
  });

  const cases: [string, ReferenceStyle][] = [
    ['home', { background: 'white', container: 'none', surface: 'white', foreground: 'navy' }],
    ['settings', { background: 'blue', container: 'none', surface: 'blue', foreground: 'cream' }],
    ['search', { background: 'cream', container: 'circle', surface: 'teal', foreground: 'white' }],
    ['mail', { background: 'white', container: 'rounded square', surface: 'purple', foreground: 'white' }],
    ['heart', { background: 'navy', container: 'circle', surface: 'white', foreground: 'red' }],
    ['calendar', { background: 'black', container: 'rounded square', surface: 'cream', foreground: 'green' }],
  ];
  it.each(cases)('%s %o: container, colours and glyph as drawn', (name, style) => {
    const coverage = lucide(name);
    const image: Image8 = drawReferenceIcon(coverage, library.size, style, SIZE);
    const parts = separateIcon(image);
    expect(parts.container.kind).toBe(style.container);
    expect(deltaE(parts.background.center, lab(NAMED_COLORS[style.background]))).toBeLessThan(1);
    if (style.container !== 'none') expect(deltaE(parts.container.color!, lab(NAMED_COLORS[style.surface]))).toBeLessThan(1);
    expect(deltaE(parts.glyphColor!, lab(NAMED_COLORS[style.foreground]))).toBeLessThan(2);
    // The anti-aliased rim of a 5-pixel stroke is a large part of it.
    expect(iou(parts.glyph, glyphTruth(coverage, style))).toBeGreaterThan(0.8);
  });

  it('keeps a big filled glyph whole instead of taking it for a container', () => {
    // A filled five-pointed star covering most of the image: not convex, so not a container.
    const star = new Float32Array(library.size * library.size);
    const c = library.size / 2;
    for (let y = 0; y < library.size; y++) {
      for (let x = 0; x < library.size; x++) {
        const a = Math.atan2(y + 0.5 - c, x + 0.5 - c);
        const r = Math.hypot(x + 0.5 - c, y + 0.5 - c) / c;
        const limit = 0.55 + 0.4 * Math.cos(5 * a) ** 2;
        star[y * library.size + x] = r <= limit ? 1 : 0;
      }
    }
    const style: ReferenceStyle = { background: 'cream', container: 'none', surface: 'cream', foreground: 'orange' };
    const parts = separateIcon(drawReferenceIcon(star, library.size, style, SIZE));
    expect(parts.container.kind).toBe('none');
    expect(iou(parts.glyph, glyphTruth(star, style))).toBeGreaterThan(0.9);
  });
});

import { describe, expect, it } from 'vitest';
import { srgbToOklab, type Oklab } from '../../src/vector/oklab';
import { ColourBins, fitPalette, type PalettePoint } from '../../src/vector/palette';

const point = (rgb: [number, number, number], weight: number): PalettePoint => ({ lab: srgbToOklab(...rgb), weight });
const near = (a: Oklab, b: Oklab, tolerance: number): boolean => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]) <= tolerance;

describe('fitPalette', () => {
  it('finds the weighted means of well-separated colour groups (hand-computed)', () => {
    // Two groups of two OKLab points each; the weighted means are computed by hand below.
    const points: PalettePoint[] = [
      { lab: [0.3, 0.1, 0.0], weight: 3 },
      { lab: [0.32, 0.1, 0.02], weight: 1 },
      { lab: [0.8, -0.1, 0.1], weight: 1 },
      { lab: [0.84, -0.1, 0.06], weight: 1 },
    ];
    const fit = fitPalette(points, { targetError: 0.02, maxColours: 8 });
    expect(fit.colours).toHaveLength(2);
    // (3 * 0.3 + 0.32) / 4 = 0.305, (3 * 0 + 0.02) / 4 = 0.005; (0.8 + 0.84) / 2 = 0.82, 0.08.
    // Palette colours are rounded to 8-bit sRGB, which moves them by at most ~0.004.
    expect(near(fit.colours[0].lab, [0.305, 0.1, 0.005], 0.006)).toBe(true);
    expect(near(fit.colours[1].lab, [0.82, -0.1, 0.08], 0.006)).toBe(true);
    // Heaviest first.
    expect(fit.colours[0].lab[0]).toBeLessThan(fit.colours[1].lab[0]);
  });

  it('adds colours until the error target is met, no more', () => {
    const colours: [number, number, number][] = [[250, 250, 250], [200, 30, 30], [30, 60, 200], [20, 160, 60]];
    const points = colours.flatMap((c) => [point(c, 100), point([c[0] ^ 1, c[1], c[2]], 50)]);
    const fit = fitPalette(points, { targetError: 0.02, maxColours: 16 });
    expect(fit.colours.map((c) => c.hex).sort()).toHaveLength(4);
    for (const c of colours) expect(fit.colours.some((p) => near(p.lab, srgbToOklab(...c), 0.01))).toBe(true);
    expect(fit.error).toBeLessThanOrEqual(0.02);
  });

  it('never exceeds the cap, and honours a minimum', () => {
    const points = Array.from({ length: 40 }, (_, i) => point([(i * 37) % 256, (i * 91) % 256, (i * 53) % 256], 1));
    expect(fitPalette(points, { targetError: 0, maxColours: 5 }).colours).toHaveLength(5);
    expect(fitPalette(points, { targetError: 1, maxColours: 30, minColours: 12 }).colours).toHaveLength(12);
  });

  it('grows a palette from its colours: the size asked for, closer than they were, and as close as a fit from scratch', () => {
    // Noise: 600 random colours, the case where a set's palette doubles until it is fine enough.
    let state = 12345;
    const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const points = Array.from({ length: 600 }, () => point([Math.floor(random() * 256), Math.floor(random() * 256), Math.floor(random() * 256)], 1 + Math.floor(random() * 4)));
    const small = fitPalette(points, { targetError: 0, minColours: 16, maxColours: 16 });
    const grown = fitPalette(points, { targetError: 0, minColours: 32, maxColours: 32, initial: small.colours.map((c) => c.lab) });
    const scratch = fitPalette(points, { targetError: 0, minColours: 32, maxColours: 32 });
    expect(grown.colours).toHaveLength(32);
    expect(grown.error).toBeLessThan(small.error);
    expect(grown.error).toBeLessThanOrEqual(scratch.error * 1.05);
    // The seeds are the initial colours: a fit started from far-off colours would end elsewhere.
    const fromBlack = fitPalette(points, { targetError: 0, minColours: 32, maxColours: 32, initial: [[0, 0, 0]] });
    expect(fromBlack.colours.map((c) => c.hex)).not.toEqual(grown.colours.map((c) => c.hex));
  });

  it('keeps a colour that only a small detail uses (0.5% of the weight)', () => {
    // The mean error without the detail's colour is 0.005 * ~0.4 = 0.002, under the target:
    // only the miss criterion adds it.
    const points = [point([240, 240, 240], 995), point([200, 20, 20], 5)];
    const fit = fitPalette(points, { targetError: 0.02, maxColours: 8 });
    expect(fit.colours.map((c) => c.hex)).toEqual(['#f0f0f0', '#c81414']);
  });

  it('is deterministic and independent of point order', () => {
    const points = Array.from({ length: 300 }, (_, i) => point([(i * 37) % 256, (i * 11) % 256, (i * 201) % 256], 1 + (i % 3)));
    const a = fitPalette(points, { targetError: 0.05, maxColours: 12 });
    const b = fitPalette(points, { targetError: 0.05, maxColours: 12 });
    expect(a.colours.map((c) => c.hex)).toEqual(b.colours.map((c) => c.hex));
    const bins = (order: number[]): string[] => {
      const pool = new ColourBins();
      for (const i of order) {
        const rgb = new Uint8Array([(i * 37) % 256, (i * 11) % 256, (i * 201) % 256]);
        const lab = new Float32Array(srgbToOklab(rgb[0], rgb[1], rgb[2]));
        pool.add(rgb, lab, new Float32Array([1]));
      }
      return fitPalette(pool.points(), { targetError: 0.05, maxColours: 12 }).colours.map((c) => c.hex);
    };
    const forward = Array.from({ length: 300 }, (_, i) => i);
    expect(bins(forward)).toEqual(bins([...forward].reverse()));
  });
});

describe('ColourBins', () => {
  it('pools nearby colours into their weighted mean and skips weightless pixels', () => {
    const rgb = new Uint8Array([100, 100, 100, 101, 100, 100, 250, 0, 0]);
    const lab = new Float32Array([0.5, 0, 0, 0.6, 0, 0, 0.9, 0.1, 0.1]);
    const pool = new ColourBins();
    pool.add(rgb, lab, new Float32Array([1, 3, 0]));
    const points = pool.points();
    expect(points).toHaveLength(1);
    expect(points[0].weight).toBe(4);
    expect(points[0].lab[0]).toBeCloseTo((0.5 + 3 * 0.6) / 4, 6);
  });
});

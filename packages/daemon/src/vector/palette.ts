import { createRng } from '../rng';
import { oklabToSrgb, srgbToOklab, type Oklab } from './oklab';

/**
 * A small palette for a set of images, by weighted k-means in OKLab.
 *
 * Pixels are first pooled into colour bins (5 bits per sRGB channel, each bin keeping the mean
 * OKLab colour of its pixels), which turns tens of thousands of pixels of a flat-coloured icon
 * into a few hundred weighted points without moving any colour. Centres are added one at a time
 * by k-means++ seeding (a deterministic seed, so a set always gets the same palette) and refined
 * by Lloyd iterations, until the weighted mean distance of the points to their centres is under
 * the target, or the cap is reached. Past 16 colours (noisy or photographic images) centres are
 * only seeded as they are added, which keeps the cost linear in the palette's size.
 */

export interface PalettePoint {
  lab: Oklab;
  /** How much this colour counts: pixels, times their flatness when edges must not make colours. */
  weight: number;
}

export interface PaletteOptions {
  /**
   * Stop adding colours once the weighted mean OKLab distance to the nearest colour is at most
   * this, and at most `MISS_SHARE` of the weight is further than `MISS_FACTOR` times it away (a
   * mean alone would let a colour used by one small detail go unrepresented).
   */
  targetError: number;
  /** Never more colours than this. */
  maxColours: number;
  /** Start with at least this many (when a first palette proved too coarse). */
  minColours?: number;
  /** Seed of the k-means++ draws. */
  seed?: number;
  /**
   * Colours to start from instead of the heaviest point: a smaller palette being grown keeps its
   * fitted colours as seeds, so each size does not seed and refine its first colours again.
   */
  initial?: readonly Oklab[];
}

export interface PaletteColour {
  lab: Oklab;
  rgb: readonly [number, number, number];
  /** `#rrggbb`. */
  hex: string;
}

export interface PaletteFit {
  colours: PaletteColour[];
  /** Weighted mean OKLab distance of the points to their colour. */
  error: number;
}

const REFINE_ITERATIONS = 2;
const MISS_FACTOR = 3;
const MISS_SHARE = 0.001;
const FINAL_ITERATIONS = 30;
/** Up to this many colours the palette is refined after each added colour; beyond, it is seeded, then refined briefly. */
const REFINED_COLOURS = 16;
const LARGE_FINAL_ITERATIONS = 8;
const DEFAULT_SEED = 0x5e7;

/** Bins per channel: 5 bits. */
const BIN_BITS = 5;

/**
 * Pools weighted pixel colours into bins of nearby sRGB colours (mean OKLab per bin). `rgb` and
 * `lab` are per-pixel arrays (3 values each), `weight` per pixel; pixels of weight 0 are skipped.
 */
export class ColourBins {
  private readonly sums = new Map<number, [number, number, number, number]>();

  add(rgb: ArrayLike<number>, lab: Float32Array, weight: Float32Array, rgbStride = 3): void {
    const shift = 8 - BIN_BITS;
    for (let p = 0; p < weight.length; p++) {
      const w = weight[p];
      if (!(w > 0)) continue;
      const key = ((rgb[p * rgbStride] >> shift) << (2 * BIN_BITS)) | ((rgb[p * rgbStride + 1] >> shift) << BIN_BITS) | (rgb[p * rgbStride + 2] >> shift);
      let sum = this.sums.get(key);
      if (!sum) {
        sum = [0, 0, 0, 0];
        this.sums.set(key, sum);
      }
      sum[0] += w * lab[3 * p];
      sum[1] += w * lab[3 * p + 1];
      sum[2] += w * lab[3 * p + 2];
      sum[3] += w;
    }
  }

  /** The bins as weighted points, in key order (so the result never depends on insertion order). */
  points(): PalettePoint[] {
    return [...this.sums.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([, [l, a, b, w]]) => ({ lab: [l / w, a / w, b / w] as const, weight: w }));
  }
}

function distanceSq(a: Oklab, b: Oklab): number {
  return (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2 + (a[2] - b[2]) ** 2;
}

function nearest(point: Oklab, centres: readonly Oklab[]): { index: number; distanceSq: number } {
  let index = 0;
  let best = Infinity;
  for (let j = 0; j < centres.length; j++) {
    const d = distanceSq(point, centres[j]);
    if (d < best) {
      best = d;
      index = j;
    }
  }
  return { index, distanceSq: best };
}

/** Lloyd iterations in place; returns the weighted mean distance after the last assignment. */
function lloyd(points: readonly PalettePoint[], centres: Oklab[], iterations: number): number {
  let error = 0;
  for (let it = 0; it < iterations; it++) {
    const sums = centres.map(() => [0, 0, 0, 0]);
    let total = 0;
    let weight = 0;
    for (const p of points) {
      const { index, distanceSq: d } = nearest(p.lab, centres);
      const s = sums[index];
      s[0] += p.weight * p.lab[0];
      s[1] += p.weight * p.lab[1];
      s[2] += p.weight * p.lab[2];
      s[3] += p.weight;
      total += p.weight * Math.sqrt(d);
      weight += p.weight;
    }
    error = weight > 0 ? total / weight : 0;
    let moved = false;
    centres.forEach((c, j) => {
      const s = sums[j];
      if (s[3] === 0) return;
      const next: Oklab = [s[0] / s[3], s[1] / s[3], s[2] / s[3]];
      if (distanceSq(next, c) > 1e-14) moved = true;
      centres[j] = next;
    });
    if (!moved) break;
  }
  return error;
}

function meanError(points: readonly PalettePoint[], centres: readonly Oklab[]): number {
  let total = 0;
  let weight = 0;
  for (const p of points) {
    total += p.weight * Math.sqrt(nearest(p.lab, centres).distanceSq);
    weight += p.weight;
  }
  return weight > 0 ? total / weight : 0;
}

/** Weighted share of the points further than `distance` from every centre. */
function missShare(points: readonly PalettePoint[], centres: readonly Oklab[], distance: number): number {
  let missed = 0;
  let weight = 0;
  for (const p of points) {
    if (nearest(p.lab, centres).distanceSq > distance * distance) missed += p.weight;
    weight += p.weight;
  }
  return weight > 0 ? missed / weight : 0;
}

function toHex(rgb: readonly number[]): string {
  return `#${rgb.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * Fits the palette. Colours are sorted by the weight they carry (the background or main fill
 * first); two centres that round to the same sRGB colour become one.
 */
export function fitPalette(points: readonly PalettePoint[], options: PaletteOptions): PaletteFit {
  const usable = points.filter((p) => p.weight > 0);
  if (usable.length === 0) return { colours: [], error: 0 };
  const rng = createRng(options.seed ?? DEFAULT_SEED);
  const maxColours = Math.max(1, Math.min(options.maxColours, usable.length));
  const minColours = Math.min(maxColours, Math.max(1, options.minColours ?? 1));

  // The heaviest colour first: deterministic, and the background or main fill is always kept.
  let first = usable[0];
  for (const p of usable) if (p.weight > first.weight) first = p;
  const centres: Oklab[] = options.initial && options.initial.length > 0 ? [...options.initial] : [first.lab];
  const closest = usable.map((p) => nearest(p.lab, centres).distanceSq);
  let error = meanError(usable, centres);
  const done = (): boolean =>
    centres.length >= minColours && error <= options.targetError && missShare(usable, centres, MISS_FACTOR * options.targetError) <= MISS_SHARE;

  while (centres.length < maxColours && !done()) {
    // k-means++: the next centre is a point drawn with probability weight x squared distance.
    let total = 0;
    for (let i = 0; i < usable.length; i++) total += usable[i].weight * closest[i];
    if (total <= 0) break;
    let r = rng.next() * total;
    let pick = usable.length - 1;
    for (let i = 0; i < usable.length; i++) {
      r -= usable[i].weight * closest[i];
      if (r < 0) {
        pick = i;
        break;
      }
    }
    const added = usable[pick].lab;
    centres.push(added);
    if (centres.length <= REFINED_COLOURS) {
      // Small palettes (an icon's colours) are refined as they grow, so the error that decides
      // when to stop is that of a fitted palette, not of raw seeds.
      error = lloyd(usable, centres, REFINE_ITERATIONS);
      for (let i = 0; i < usable.length; i++) closest[i] = nearest(usable[i].lab, centres).distanceSq;
    } else {
      // Large palettes (noise, photographs) only seed, in O(points) per colour, and are refined once at the end.
      let sum = 0;
      let weight = 0;
      for (let i = 0; i < usable.length; i++) {
        closest[i] = Math.min(closest[i], distanceSq(usable[i].lab, added));
        sum += usable[i].weight * Math.sqrt(closest[i]);
        weight += usable[i].weight;
      }
      error = sum / weight;
    }
  }
  lloyd(usable, centres, centres.length <= REFINED_COLOURS ? FINAL_ITERATIONS : LARGE_FINAL_ITERATIONS);

  // Colours by carried weight; merge centres that land on one 8-bit colour.
  const carried = new Float64Array(centres.length);
  for (const p of usable) carried[nearest(p.lab, centres).index] += p.weight;
  const order = centres.map((_, j) => j).filter((j) => carried[j] > 0).sort((a, b) => carried[b] - carried[a] || a - b);
  const colours: PaletteColour[] = [];
  const seen = new Set<string>();
  for (const j of order) {
    const rgb = oklabToSrgb(centres[j]);
    const hex = toHex(rgb);
    if (seen.has(hex)) continue;
    seen.add(hex);
    // The palette is the 8-bit colours the SVG will name, so distances are measured to those.
    colours.push({ lab: srgbToOklab(...rgb), rgb, hex });
  }
  return { colours, error: meanError(usable, colours.map((c) => c.lab)) };
}

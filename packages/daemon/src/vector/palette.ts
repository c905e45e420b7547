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

/**
 * Weighted points and centres as flat OKLab triples. Lloyd iterations over a 128-colour palette
 * measure millions of distances per set: kept in typed arrays, they allocate nothing per point.
 */
interface Points {
  lab: Float64Array;
  weight: Float64Array;
}

const sq = (x: number): number => x * x;

class Centres {
  readonly lab: Float64Array;
  count = 0;

  constructor(capacity: number) {
    this.lab = new Float64Array(3 * capacity);
  }

  push(l: number, a: number, b: number): void {
    this.lab[3 * this.count] = l;
    this.lab[3 * this.count + 1] = a;
    this.lab[3 * this.count + 2] = b;
    this.count++;
  }

  at(j: number): Oklab {
    return [this.lab[3 * j], this.lab[3 * j + 1], this.lab[3 * j + 2]];
  }
}

/** Each point's nearest centre (the first of equals) and squared distance to it, into `index` and `distanceSq`. */
function assign(points: Points, centres: Centres, index: Int32Array, distanceSq: Float64Array): void {
  const { lab } = points;
  const c = centres.lab;
  for (let i = 0; i < index.length; i++) {
    const l = lab[3 * i];
    const a = lab[3 * i + 1];
    const b = lab[3 * i + 2];
    let nearest = 0;
    let best = Infinity;
    for (let j = 0; j < centres.count; j++) {
      const d = sq(l - c[3 * j]) + sq(a - c[3 * j + 1]) + sq(b - c[3 * j + 2]);
      if (d < best) {
        best = d;
        nearest = j;
      }
    }
    index[i] = nearest;
    distanceSq[i] = best;
  }
}

/** Weighted mean distance of the points to their assigned centres. */
function meanDistance(points: Points, distanceSq: Float64Array): number {
  let total = 0;
  let weight = 0;
  for (let i = 0; i < distanceSq.length; i++) {
    total += points.weight[i] * Math.sqrt(distanceSq[i]);
    weight += points.weight[i];
  }
  return weight > 0 ? total / weight : 0;
}

/** Lloyd iterations in place; returns the weighted mean distance after the last assignment. */
function lloyd(points: Points, centres: Centres, iterations: number, index: Int32Array, distanceSq: Float64Array): number {
  const { lab, weight } = points;
  const c = centres.lab;
  const sums = new Float64Array(4 * centres.count);
  let error = 0;
  for (let it = 0; it < iterations; it++) {
    assign(points, centres, index, distanceSq);
    sums.fill(0);
    for (let i = 0; i < index.length; i++) {
      const s = 4 * index[i];
      const w = weight[i];
      sums[s] += w * lab[3 * i];
      sums[s + 1] += w * lab[3 * i + 1];
      sums[s + 2] += w * lab[3 * i + 2];
      sums[s + 3] += w;
    }
    error = meanDistance(points, distanceSq);
    let moved = false;
    for (let j = 0; j < centres.count; j++) {
      const w = sums[4 * j + 3];
      if (w === 0) continue;
      const l = sums[4 * j] / w;
      const a = sums[4 * j + 1] / w;
      const b = sums[4 * j + 2] / w;
      if (sq(l - c[3 * j]) + sq(a - c[3 * j + 1]) + sq(b - c[3 * j + 2]) > 1e-14) moved = true;
      c[3 * j] = l;
      c[3 * j + 1] = a;
      c[3 * j + 2] = b;
    }
    if (!moved) break;
  }
  return error;
}

/** Weighted share of the points whose nearest centre (`distanceSq`) is further than `distance`. */
function missShare(points: Points, distanceSq: Float64Array, distance: number): number {
  let missed = 0;
  let weight = 0;
  for (let i = 0; i < distanceSq.length; i++) {
    if (distanceSq[i] > distance * distance) missed += points.weight[i];
    weight += points.weight[i];
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
  const n = usable.length;
  const flat: Points = { lab: new Float64Array(3 * n), weight: new Float64Array(n) };
  usable.forEach((p, i) => {
    flat.lab.set(p.lab, 3 * i);
    flat.weight[i] = p.weight;
  });
  const index = new Int32Array(n);
  const closest = new Float64Array(n);

  // The heaviest colour first: deterministic, and the background or main fill is always kept.
  let first = usable[0];
  for (const p of usable) if (p.weight > first.weight) first = p;
  const seeds = options.initial && options.initial.length > 0 ? options.initial : [first.lab];
  const centres = new Centres(Math.max(maxColours, seeds.length));
  for (const [l, a, b] of seeds) centres.push(l, a, b);
  assign(flat, centres, index, closest);
  let error = meanDistance(flat, closest);
  const done = (): boolean => centres.count >= minColours && error <= options.targetError && missShare(flat, closest, MISS_FACTOR * options.targetError) <= MISS_SHARE;

  while (centres.count < maxColours && !done()) {
    // k-means++: the next centre is a point drawn with probability weight x squared distance.
    let total = 0;
    for (let i = 0; i < n; i++) total += flat.weight[i] * closest[i];
    if (total <= 0) break;
    let r = rng.next() * total;
    let pick = n - 1;
    for (let i = 0; i < n; i++) {
      r -= flat.weight[i] * closest[i];
      if (r < 0) {
        pick = i;
        break;
      }
    }
    const [l, a, b] = usable[pick].lab;
    centres.push(l, a, b);
    if (centres.count <= REFINED_COLOURS) {
      // Small palettes (an icon's colours) are refined as they grow, so the error that decides
      // when to stop is that of a fitted palette, not of raw seeds.
      error = lloyd(flat, centres, REFINE_ITERATIONS, index, closest);
      assign(flat, centres, index, closest);
    } else {
      // Large palettes (noise, photographs) only seed, in O(points) per colour, and are refined once at the end.
      let sum = 0;
      let weight = 0;
      for (let i = 0; i < n; i++) {
        closest[i] = Math.min(closest[i], sq(flat.lab[3 * i] - l) + sq(flat.lab[3 * i + 1] - a) + sq(flat.lab[3 * i + 2] - b));
        sum += flat.weight[i] * Math.sqrt(closest[i]);
        weight += flat.weight[i];
      }
      error = sum / weight;
    }
  }
  lloyd(flat, centres, centres.count <= REFINED_COLOURS ? FINAL_ITERATIONS : LARGE_FINAL_ITERATIONS, index, closest);

  // Colours by carried weight; merge centres that land on one 8-bit colour.
  assign(flat, centres, index, closest);
  const carried = new Float64Array(centres.count);
  for (let i = 0; i < n; i++) carried[index[i]] += flat.weight[i];
  const order = [...carried.keys()].filter((j) => carried[j] > 0).sort((a, b) => carried[b] - carried[a] || a - b);
  const colours: PaletteColour[] = [];
  const seen = new Set<string>();
  for (const j of order) {
    const rgb = oklabToSrgb(centres.at(j));
    const hex = toHex(rgb);
    if (seen.has(hex)) continue;
    seen.add(hex);
    // The palette is the 8-bit colours the SVG will name, so distances are measured to those.
    colours.push({ lab: srgbToOklab(...rgb), rgb, hex });
  }
  const final = new Centres(colours.length);
  for (const { lab } of colours) final.push(...lab);
  assign(flat, final, index, closest);
  return { colours, error: meanDistance(flat, closest) };
}

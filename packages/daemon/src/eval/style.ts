import { deltaE, type Lab } from './color';
import { erode, maskArea, type Mask } from './mask';
import type { Segmentation } from './segment';

/**
 * What an icon's style is made of, measured so that it does not depend on which shape it is:
 * background colour, the colours of the painted foreground, how much of the silhouette is painted
 * (filled vs outline, stroke width) and the fill's texture (pattern kind, direction and period).
 */
export interface StyleDescriptor {
  background: Lab;
  /** Colour distribution of the painted foreground: bin-mean colours and their weights (sum 1). */
  palette: { colors: Lab[]; weights: number[] };
  /** Painted area / silhouette area: 1 for a filled icon, lower for outlines. 0 when empty. */
  fillRatio: number;
  /** Mean ΔE between interior pixels at each of TEXTURE_OFFSETS apart (a variogram). */
  texture: number[];
}

/**
 * Displacements of the texture variogram: 4 directions x 3 distances. Stripes show up as contrast
 * across and none along their direction; dots and checks by their period; gradients as slow
 * growth with distance; solid fills as zeros. Renderer pattern periods are 5-10 px at 64 px.
 */
const DIRECTIONS = [
  [1, 0],
  [1, 1],
  [0, 1],
  [-1, 1],
] as const;
const DISTANCES = [1, 2, 4] as const;
const TEXTURE_OFFSETS: readonly (readonly [number, number])[] = DISTANCES.flatMap((d) =>
  DIRECTIONS.map(([x, y]) => [x * d, y * d] as const),
);

/** Palette bin size in ΔE: fine enough to keep named colours apart, coarse enough to be few bins. */
const BIN = 6;
/** The heaviest bins a palette keeps. */
const MAX_BINS = 48;

function paletteOf(lab: Float32Array, region: Mask): StyleDescriptor['palette'] {
  const bins = new Map<string, { sum: [number, number, number]; count: number }>();
  region.data.forEach((inside, p) => {
    if (!inside) return;
    const c: Lab = [lab[3 * p], lab[3 * p + 1], lab[3 * p + 2]];
    const key = `${Math.floor(c[0] / BIN)},${Math.floor(c[1] / BIN)},${Math.floor(c[2] / BIN)}`;
    let bin = bins.get(key);
    if (!bin) bins.set(key, (bin = { sum: [0, 0, 0], count: 0 }));
    for (let k = 0; k < 3; k++) bin.sum[k] += c[k];
    bin.count++;
  });
  // An icon's interior has a few colours (a gradient some tens); only noise fills thousands of
  // bins, and comparing two palettes costs the product of their sizes.
  const kept = [...bins.values()].sort((a, b) => b.count - a.count).slice(0, MAX_BINS);
  const keptTotal = kept.reduce((n, b) => n + b.count, 0);
  return {
    colors: kept.map(({ sum, count }): Lab => [sum[0] / count, sum[1] / count, sum[2] / count]),
    weights: kept.map(({ count }) => count / keptTotal),
  };
}

function variogram(lab: Float32Array, interior: Mask): number[] {
  const { width: w, height: h, data } = interior;
  return TEXTURE_OFFSETS.map(([dx, dy]) => {
    let sum = 0;
    let n = 0;
    for (let y = 0; y + dy < h; y++) {
      for (let x = Math.max(0, -dx); x < w && x + dx < w; x++) {
        const p = y * w + x;
        const q = (y + dy) * w + x + dx;
        if (!data[p] || !data[q]) continue;
        sum += Math.hypot(lab[3 * p] - lab[3 * q], lab[3 * p + 1] - lab[3 * q + 1], lab[3 * p + 2] - lab[3 * q + 2]);
        n++;
      }
    }
    // No interior pairs (a thin stroke, an empty image) reads as "no texture".
    return n > 0 ? sum / n : 0;
  });
}

export function describeStyle(seg: Segmentation): StyleDescriptor {
  const paintedArea = maskArea(seg.painted);
  const silhouetteArea = maskArea(seg.silhouette);
  // The rim blends foreground into background; thin strokes may have no interior, then keep all.
  const interior = erode(seg.painted);
  const colourRegion = maskArea(interior) > 0 ? interior : seg.painted;
  return {
    background: seg.background,
    palette: paletteOf(seg.lab, colourRegion),
    fillRatio: silhouetteArea > 0 ? Math.min(1, paintedArea / silhouetteArea) : 0,
    texture: variogram(seg.lab, interior),
  };
}

/** Width of the colour kernel in ΔE: colours a just-noticeable step or two apart still match. */
const COLOR_SIGMA = 12;
/** Scale of texture differences in mean ΔE per offset. */
const TEXTURE_SCALE = 15;

/** How much each part counts in the combined similarity (sums to 1). */
export const STYLE_WEIGHTS = { background: 0.3, palette: 0.3, fill: 0.2, texture: 0.2 } as const;

function colorKernel(a: Lab, b: Lab): number {
  const d = deltaE(a, b);
  return Math.exp(-(d * d) / (2 * COLOR_SIGMA * COLOR_SIGMA));
}

function crossKernel(a: StyleDescriptor['palette'], b: StyleDescriptor['palette']): number {
  let k = 0;
  for (let i = 0; i < a.colors.length; i++) {
    for (let j = 0; j < b.colors.length; j++) k += a.weights[i] * b.weights[j] * colorKernel(a.colors[i], b.colors[j]);
  }
  return k;
}

/**
 * Cosine similarity of the two colour distributions' kernel mean embeddings: 1 for the same
 * distribution, near 0 for distributions with no colour in common; 0 when either is empty.
 */
export function paletteSimilarity(a: StyleDescriptor['palette'], b: StyleDescriptor['palette']): number {
  const norm = Math.sqrt(crossKernel(a, a) * crossKernel(b, b));
  return norm > 0 ? Math.min(1, crossKernel(a, b) / norm) : 0;
}

export const STYLE_PARTS = ['background', 'palette', 'fill', 'texture'] as const;
export type StylePart = (typeof STYLE_PARTS)[number];

export type StyleSimilarity = Record<StylePart, number> & {
  /** Weighted mean of the parts (STYLE_WEIGHTS), in [0, 1]. */
  total: number;
};

/** Symmetric style similarity of two icons, each part in [0, 1], 1 for the same style. */
export function styleSimilarity(a: StyleDescriptor, b: StyleDescriptor): StyleSimilarity {
  const background = colorKernel(a.background, b.background);
  const palette = paletteSimilarity(a.palette, b.palette);
  const fill = 1 - Math.abs(a.fillRatio - b.fillRatio);
  let diff = 0;
  for (let k = 0; k < a.texture.length; k++) diff += Math.abs(a.texture[k] - b.texture[k]);
  const texture = Math.exp(-diff / a.texture.length / TEXTURE_SCALE);
  const w = STYLE_WEIGHTS;
  const total = w.background * background + w.palette * palette + w.fill * fill + w.texture * texture;
  return { background, palette, fill, texture, total };
}

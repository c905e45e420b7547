import { erode, maskBounds, type Mask } from './mask';

/** Side of the normalised frame in cells. */
export const FEATURE_GRID = 32;
/** The glyph's bounding box spans this share of the frame, centred, so a blurred edge still fits. */
const BOX_SHARE = 0.8;
/** Blur of the edge map in cells: stroke widths and small misplacements differ between icon sets. */
const BLUR_SIGMA = 1.25;

/**
 * A glyph's shape as a unit vector: its edges (mask pixels with a 4-neighbour outside), placed in a
 * FEATURE_GRID frame by the bounding box (centred, the longer side scaled to BOX_SHARE of the frame,
 * aspect kept), blurred. Edges rather than the mask itself, because an outline glyph and a filled
 * glyph of the same thing share their outer contour and most inner details, but not their area;
 * the bounding box rather than the area or the centroid for the same reason. Undefined for an empty
 * mask.
 */
export function glyphFeature(mask: Mask): Float32Array | undefined {
  const { width: w, height: h, data } = mask;
  const bounds = maskBounds(mask);
  if (bounds === undefined) return undefined;
  const { x0, y0, x1, y1 } = bounds;
  const inner = erode(mask);
  const scale = (BOX_SHARE * FEATURE_GRID) / Math.max(x1 - x0 + 1, y1 - y0 + 1);
  const cx = (x0 + x1 + 1) / 2;
  const cy = (y0 + y1 + 1) / 2;
  const grid = new Float32Array(FEATURE_GRID * FEATURE_GRID);
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const p = y * w + x;
      // Erosion treats the image border as inside; a glyph touching it still has an edge there.
      const onBorder = x === 0 || y === 0 || x === w - 1 || y === h - 1;
      if (!data[p] || (inner.data[p] && !onBorder)) continue;
      // Bilinear splat of the pixel centre, weighted by the area one pixel covers in the frame.
      const u = (x + 0.5 - cx) * scale + FEATURE_GRID / 2 - 0.5;
      const v = (y + 0.5 - cy) * scale + FEATURE_GRID / 2 - 0.5;
      const i0 = Math.floor(u);
      const j0 = Math.floor(v);
      const fu = u - i0;
      const fv = v - j0;
      for (const [i, j, weight] of [
        [i0, j0, (1 - fu) * (1 - fv)],
        [i0 + 1, j0, fu * (1 - fv)],
        [i0, j0 + 1, (1 - fu) * fv],
        [i0 + 1, j0 + 1, fu * fv],
      ] as const) {
        if (i >= 0 && j >= 0 && i < FEATURE_GRID && j < FEATURE_GRID) grid[j * FEATURE_GRID + i] += weight * scale;
      }
    }
  }
  const blurred = gaussianBlur(grid, FEATURE_GRID, BLUR_SIGMA);
  let norm = 0;
  for (const v of blurred) norm += v * v;
  norm = Math.sqrt(norm);
  if (norm === 0) return undefined;
  for (let i = 0; i < blurred.length; i++) blurred[i] /= norm;
  return blurred;
}

/** Separable Gaussian blur of a square grid, zero outside. */
function gaussianBlur(grid: Float32Array, size: number, sigma: number): Float32Array {
  const radius = Math.ceil(3 * sigma);
  const kernel = Array.from({ length: 2 * radius + 1 }, (_, k) => Math.exp(-((k - radius) ** 2) / (2 * sigma * sigma)));
  const total = kernel.reduce((a, b) => a + b, 0);
  return blurAlong(blurAlong(grid, size, kernel, total, true), size, kernel, total, false);
}

/** One pass of the separable blur, along rows (`horizontal`) or columns. */
function blurAlong(grid: Float32Array, size: number, kernel: readonly number[], total: number, horizontal: boolean): Float32Array {
  const radius = (kernel.length - 1) / 2;
  const out = new Float32Array(grid.length);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let s = 0;
      for (let k = -radius; k <= radius; k++) {
        const xx = horizontal ? x + k : x;
        const yy = horizontal ? y : y + k;
        if (xx >= 0 && xx < size && yy >= 0 && yy < size) s += kernel[k + radius] * grid[yy * size + xx];
      }
      out[y * size + x] = s / total;
    }
  }
  return out;
}

/** Cosine similarity of two features (both unit vectors): 1 for the same shape; 0 when either is missing. */
export function featureSimilarity(a: Float32Array | undefined, b: Float32Array | undefined): number {
  if (!a || !b) return 0;
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i] * b[i];
  return dot;
}

/** A coverage map (values in [0, 1]) as a mask, inside where coverage is at least one half. */
export function coverageMask(coverage: Float32Array, width: number, height: number): Mask {
  return { width, height, data: Uint8Array.from(coverage, (c) => (c >= 0.5 ? 1 : 0)) };
}

import type { Image8 } from '../image/image8';
import type { PaletteColour } from './palette';

/** Index of a pixel no palette colour covers: transparent. Palettes have fewer colours. */
export const TRANSPARENT = 255;

/** A pixel at least half covered is drawn; below that it is background (the SVG's edge is at 50%). */
export const OPAQUE_ALPHA = 128;

/** Local contrast (OKLab) at which a pixel counts half as flat: anti-aliased edges lie well above it. */
const EDGE_CONTRAST = 0.04;

/** A flatness weight below this marks an edge pixel, which takes a colour from its flat neighbours. */
const EDGE_FLATNESS = 0.5;
/**
 * How far (pixels) an edge pixel looks for flat neighbours: two, because the pixels on either
 * side of a one-pixel blend are edge pixels too (their neighbour, the blend, differs from them).
 */
const FLAT_SEARCH = 2;

/** Squared OKLab distance between pixels p and q of an image's triples. */
function distanceSq(lab: Float32Array, p: number, q: number): number {
  const dl = lab[3 * p] - lab[3 * q];
  const da = lab[3 * p + 1] - lab[3 * q + 1];
  const db = lab[3 * p + 2] - lab[3 * q + 2];
  return dl * dl + da * da + db * db;
}

/**
 * How flat each pixel's surroundings are, in (0, 1]: 1 / (1 + (g / 0.04)²), with g the largest
 * OKLab distance to a drawn 4-neighbour. Anti-aliased edges blend two colours and sit on a steep
 * local gradient, so they get little weight and do not create palette colours of their own.
 */
export function flatness(lab: Float32Array, drawn: Uint8Array, width: number, height: number): Float32Array {
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      if (!drawn[p]) continue;
      let g2 = 0;
      if (x > 0 && drawn[p - 1]) g2 = Math.max(g2, distanceSq(lab, p, p - 1));
      if (x < width - 1 && drawn[p + 1]) g2 = Math.max(g2, distanceSq(lab, p, p + 1));
      if (y > 0 && drawn[p - width]) g2 = Math.max(g2, distanceSq(lab, p, p - width));
      if (y < height - 1 && drawn[p + width]) g2 = Math.max(g2, distanceSq(lab, p, p + width));
      const g = Math.sqrt(g2);
      out[p] = 1 / (1 + (g / EDGE_CONTRAST) ** 2);
    }
  }
  return out;
}

/** Which pixels the vector image draws: alpha at least 50% (every pixel of an RGB image). */
export function drawnMask(image: Image8): Uint8Array {
  const n = image.width * image.height;
  const out = new Uint8Array(n);
  for (let p = 0; p < n; p++) out[p] = image.channels === 3 || image.data[4 * p + 3] >= OPAQUE_ALPHA ? 1 : 0;
  return out;
}

function nearestColour(lab: Float32Array, p: number, palette: readonly PaletteColour[], allowed?: ReadonlySet<number>): number {
  let best = Infinity;
  let index = 0;
  for (let j = 0; j < palette.length; j++) {
    if (allowed && !allowed.has(j)) continue;
    const c = palette[j].lab;
    const d = (lab[3 * p] - c[0]) ** 2 + (lab[3 * p + 1] - c[1]) ** 2 + (lab[3 * p + 2] - c[2]) ** 2;
    if (d < best) {
      best = d;
      index = j;
    }
  }
  return index;
}

/**
 * Palette index per pixel (`TRANSPARENT` where not drawn): the nearest colour. Given `flat`,
 * edge pixels take the nearest of the colours their flat neighbours (within two pixels) took instead, so the blend
 * between red and blue becomes red or blue, never a stripe of a purple that the palette has
 * for another reason. `nearest`, this function's result for the same palette without `flat`,
 * saves searching the palette again for the flat pixels.
 */
export function assignColours(lab: Float32Array, drawn: Uint8Array, flat: Float32Array | undefined, width: number, height: number, palette: readonly PaletteColour[], nearest?: Uint8Array): Uint8Array {
  if (palette.length >= TRANSPARENT) throw new Error(`a palette has at most ${TRANSPARENT - 1} colours, got ${palette.length}`);
  const n = width * height;
  const index = new Uint8Array(n).fill(TRANSPARENT);
  for (let p = 0; p < n; p++) if (drawn[p] && (!flat || flat[p] >= EDGE_FLATNESS)) index[p] = nearest ? nearest[p] : nearestColour(lab, p, palette);
  if (!flat) return index;
  const allowed = new Set<number>();
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      if (!drawn[p] || flat[p] >= EDGE_FLATNESS) continue;
      allowed.clear();
      for (let dy = -FLAT_SEARCH; dy <= FLAT_SEARCH; dy++) {
        for (let dx = -FLAT_SEARCH; dx <= FLAT_SEARCH; dx++) {
          const nx = x + dx;
          const ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
          const q = ny * width + nx;
          if (drawn[q] && flat[q] >= EDGE_FLATNESS) allowed.add(index[q]);
        }
      }
      index[p] = nearestColour(lab, p, palette, allowed.size > 0 ? allowed : undefined);
    }
  }
  return index;
}

/** 4-connected regions of equal index: a label per pixel and each region's size. */
function labelRegions(index: Uint8Array, width: number): { label: Int32Array; sizes: number[] } {
  const n = index.length;
  const label = new Int32Array(n).fill(-1);
  const sizes: number[] = [];
  const stack = new Int32Array(n);
  for (let start = 0; start < n; start++) {
    if (label[start] >= 0) continue;
    const id = sizes.length;
    const v = index[start];
    let top = 0;
    let size = 0;
    label[start] = id;
    stack[top++] = start;
    while (top > 0) {
      const i = stack[--top];
      size++;
      const x = i % width;
      if (x > 0 && label[i - 1] < 0 && index[i - 1] === v) {
        label[i - 1] = id;
        stack[top++] = i - 1;
      }
      if (x < width - 1 && label[i + 1] < 0 && index[i + 1] === v) {
        label[i + 1] = id;
        stack[top++] = i + 1;
      }
      if (i >= width && label[i - width] < 0 && index[i - width] === v) {
        label[i - width] = id;
        stack[top++] = i - width;
      }
      if (i < n - width && label[i + width] < 0 && index[i + width] === v) {
        label[i + width] = id;
        stack[top++] = i + width;
      }
    }
    sizes.push(size);
  }
  return { label, sizes };
}

/**
 * Merges every 4-connected region smaller than `minArea` pixels into the neighbouring region it
 * shares the longest border with (transparency counts as a region), smallest first, until none
 * is left. Curve fitting shrinks such specks to slivers thinner than a pixel, so they go before
 * tracing. With `nearest`, a speck goes to the neighbouring colour nearest its pixels' own
 * (OKLab) instead, the least visible change (transparency only when no neighbour has a colour).
 * Returns how many regions were merged.
 */
export function mergeSpecks(index: Uint8Array, width: number, height: number, minArea: number, nearest?: { lab: Float32Array; palette: readonly PaletteColour[] }): number {
  const n = width * height;
  let merged = 0;
  for (let pass = 0; pass < 4; pass++) {
    const { label, sizes } = labelRegions(index, width);
    const small = sizes.map((size, id) => ({ size, id })).filter((r) => r.size < minArea);
    if (small.length === 0 || small.length === sizes.length) break;
    small.sort((a, b) => a.size - b.size || a.id - b.id);
    const members = new Map<number, number[]>(small.map((r) => [r.id, []]));
    for (let i = 0; i < n; i++) members.get(label[i])?.push(i);
    let changed = false;
    const border = new Map<number, number>();
    for (const { id } of small) {
      const pixels = members.get(id)!;
      const own = index[pixels[0]];
      border.clear();
      const look = (j: number): void => {
        const v = index[j];
        if (v !== own) border.set(v, (border.get(v) ?? 0) + 1);
      };
      for (const i of pixels) {
        const x = i % width;
        if (x > 0) look(i - 1);
        if (x < width - 1) look(i + 1);
        if (i >= width) look(i - width);
        if (i < n - width) look(i + width);
      }
      if (border.size === 0) continue;
      // Longest shared border wins; ties go to the lower index, so the result is deterministic.
      let target = -1;
      let longest = 0;
      for (const [v, length] of border) {
        if (length > longest || (length === longest && v < target)) {
          target = v;
          longest = length;
        }
      }
      if (nearest) target = nearestNeighbour(pixels, border, nearest.lab, nearest.palette) ?? target;
      for (const i of pixels) index[i] = target;
      merged++;
      changed = true;
    }
    if (!changed) break;
  }
  return merged;
}

/** Of a region's neighbouring colours (`border`'s keys), the one nearest its pixels' mean colour; undefined if all are transparent. */
function nearestNeighbour(pixels: readonly number[], border: ReadonlyMap<number, number>, lab: Float32Array, palette: readonly PaletteColour[]): number | undefined {
  const allowed = new Set([...border.keys()].filter((v) => v !== TRANSPARENT));
  if (allowed.size === 0) return undefined;
  const mean = new Float32Array(3);
  for (const p of pixels) for (let c = 0; c < 3; c++) mean[c] += lab[3 * p + c] / pixels.length;
  return nearestColour(mean, 0, palette, allowed);
}

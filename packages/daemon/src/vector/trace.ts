import { createRequire } from 'node:module';
import { flood8 } from '../connected';
import { TRANSPARENT } from './quantise';
import { cubicCross, lineCross } from './path-area';

/**
 * Tracing a palette-indexed image into one SVG path per colour, with vtracer (visioncortex,
 * through @neplex/vectorizer's N-API binding) in its binary mode.
 *
 * Colours are stacked: the colour covering most pixels at the bottom, each colour's shape being
 * its own pixels plus those of the colours above it that they touch (`stackedShape`). Upper
 * colours then sit on a lower colour that runs on underneath them, never on a hairline gap where
 * two separately traced edges fail to meet (what tracing each colour on its own gives once
 * anti-aliased), and a colour enclosed by another needs no hole cut for it. Transparent pixels
 * belong to no colour, so holes that show the background stay holes.
 *
 * Pixel outlines meet exactly on pixel edges, seamless at the traced size; shown at any other,
 * those edges fall inside pixels and the page shows through along them. Only their bottom
 * colour is stacked (`touchingAbove`): the rest keep their own pixels, so the page stays out and
 * where two upper colours meet, the bottom colour, not the page, blends in. (On the embedded
 * model's pixel-outline icons, 13 in six sets of four, shown at 0.6 times: the page showed through at
 * 25/255 of opacity inside them on average, now 0, and they are 7% smaller. Every colour
 * stacked, as curves are, made them 26% larger than this and, shown at 0.6 times, further
 * from the raster, 3.1 against 2.2/255: a colour run on under a neighbour peeks out at that
 * neighbour's far edge.)
 */

/** How closely paths follow the pixels. */
export type Fidelity = 'smooth' | 'exact';

export interface TracedLayer {
  /** Palette index of the fill. */
  colour: number;
  /** Path data in image pixels, absolute commands. */
  d: string;
  /** Closed subpaths (outlines and holes). */
  subpaths: number;
  /**
   * The thinnest subpath's mean width in pixels (its area over its bounding box's longer side; a
   * pixel, or a one-pixel strip, is 1): curves fitted to a noisy raster can leave thinner strips.
   */
  thinnest: number;
}

interface VtracerConfig {
  colorMode: number;
  hierarchical: number;
  filterSpeckle: number;
  colorPrecision: number;
  layerDifference: number;
  mode: number;
  cornerThreshold: number;
  lengthThreshold: number;
  maxIterations: number;
  spliceThreshold: number;
  pathPrecision?: number;
}

interface Vtracer {
  vectorizeRawSync(source: Buffer, args: { width: number; height: number }, config: VtracerConfig): string;
}

// The package's typings declare `const enum`s, which isolated-module builds cannot inline.
const BINARY = 1;
const STACKED = 0;
const MODE_NONE = 0;
const MODE_SPLINE = 2;

/**
 * vtracer's defaults for its spline mode, except: no speck filter (specks were merged before,
 * and a filter here would open holes in the stack), and two decimals, a hundredth of a pixel.
 */
const CONFIG: Record<Fidelity, VtracerConfig> = {
  smooth: {
    colorMode: BINARY,
    hierarchical: STACKED,
    filterSpeckle: 0,
    colorPrecision: 8,
    layerDifference: 0,
    mode: MODE_SPLINE,
    cornerThreshold: 60,
    lengthThreshold: 4,
    maxIterations: 10,
    spliceThreshold: 45,
    pathPrecision: 2,
  },
  exact: {
    colorMode: BINARY,
    hierarchical: STACKED,
    filterSpeckle: 0,
    colorPrecision: 8,
    layerDifference: 0,
    mode: MODE_NONE,
    cornerThreshold: 60,
    lengthThreshold: 4,
    maxIterations: 10,
    spliceThreshold: 45,
    pathPrecision: 2,
  },
};

let vtracer: Vtracer | undefined;

/** The native tracer, loaded on first use (a PNG-only run never pays for it). */
export function loadVtracer(): Vtracer {
  if (!vtracer) {
    const require = createRequire(import.meta.url);
    try {
      vtracer = require('@neplex/vectorizer') as Vtracer;
    } catch (e) {
      throw new Error(
        `SVG output needs @neplex/vectorizer's native build for ${process.platform}-${process.arch}, which did not load (${(e as Error).message}); reinstall with npm ci on this machine`,
        { cause: e },
      );
    }
  }
  return vtracer;
}

/** RGBA pixels as the tracer's buffer holds them, one 32-bit word each (in this machine's byte order). */
const OPAQUE_BLACK = new Uint32Array(Uint8Array.of(0, 0, 0, 255).buffer)[0];
const OPAQUE_WHITE = 0xffffffff;

/** Subpaths with less area than this (pixels²) or a bounding box thinner than a pixel are dropped. */
const MIN_SUBPATH_AREA = 1;
const MIN_SUBPATH_SIZE = 1;

const PATH_ELEMENT = /<path\s([^>]*)\/?>/g;
const PATH_DATA = /\sd="([^"]*)"/;
const TRANSLATE = /transform="translate\(\s*([-\d.e]+)[\s,]+([-\d.e]+)\s*\)"/;

interface Subpath {
  d: string;
  area: number;
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

const roundCoordinate = (v: number): string => String(Math.round(v * 100) / 100);

const isDigit = (code: number): boolean => code >= 48 && code <= 57;
const isLetter = (code: number): boolean => (code >= 65 && code <= 90) || (code >= 97 && code <= 122);

/**
 * Where the number starting at `i` ends (`-?\d*\.?\d+(e[-+]?\d+)?`), or `i` if none starts
 * there.
 */
function numberEnd(d: string, i: number): number {
  let j = d.charCodeAt(i) === 45 ? i + 1 : i;
  const digitsFrom = j;
  while (isDigit(d.charCodeAt(j))) j++;
  let end = j > digitsFrom ? j : i;
  if (d.charCodeAt(j) === 46 && isDigit(d.charCodeAt(j + 1))) {
    j++;
    while (isDigit(d.charCodeAt(j))) j++;
    end = j;
  }
  if (end === i) return i;
  const e = d.charCodeAt(end);
  if (e === 101 || e === 69) {
    let k = end + 1;
    const sign = d.charCodeAt(k);
    if (sign === 43 || sign === 45) k++;
    if (isDigit(d.charCodeAt(k))) {
      while (isDigit(d.charCodeAt(k))) k++;
      end = k;
    }
  }
  return end;
}

/**
 * vtracer's path data (absolute M, L, C, Z) moved by its translate, split into subpaths with
 * their exact area (curves included: see path-area.ts) and the bounding box of their points,
 * control points included (a little larger than the curve's, so a strip is never judged thicker
 * than it is). One scan over the characters: a
 * noisy image's pixel outlines run to thousands of subpaths, and parsing them once cost more
 * than the tracing.
 */
function subpaths(d: string, tx: number, ty: number): Subpath[] {
  const out: Subpath[] = [];
  let text = '';
  const points: number[] = [];
  // Twice the signed area of the segments read so far (path-area.ts).
  let cross = 0;
  const flush = (): void => {
    if (points.length >= 6) {
      const n = points.length;
      const area = cross + lineCross(points[n - 2], points[n - 1], points[0], points[1]);
      let minX = Infinity;
      let minY = Infinity;
      let maxX = -Infinity;
      let maxY = -Infinity;
      for (let i = 0; i < points.length; i += 2) {
        minX = Math.min(minX, points[i]);
        maxX = Math.max(maxX, points[i]);
        minY = Math.min(minY, points[i + 1]);
        maxY = Math.max(maxY, points[i + 1]);
      }
      out.push({ d: text, area: Math.abs(area) / 2, minX, minY, maxX, maxY });
    }
    text = '';
    points.length = 0;
    cross = 0;
  };
  const malformed = (from: number, to: number): Error => new Error(`malformed path data from the tracer near '${d.slice(from, to)}'`);
  let command = '';
  // Coordinates of the current command read so far, and where they began.
  let have = 0;
  let groupStart = 0;
  for (let i = 0; i < d.length; ) {
    const code = d.charCodeAt(i);
    if (isLetter(code)) {
      if (have > 0) throw malformed(groupStart, i + 1);
      command = d[i++];
      if (command === 'Z' || command === 'z') {
        text += 'Z';
        flush();
      } else if (command === 'M') {
        flush();
      } else if (command !== 'L' && command !== 'C') {
        throw new Error(`unexpected path command '${command}' from the tracer (expected absolute M, L, C, Z)`);
      }
      continue;
    }
    const end = numberEnd(d, i);
    // Separators (and anything else between tokens) are skipped.
    if (end === i) {
      i++;
      continue;
    }
    const value = Number(d.slice(i, end));
    if (!Number.isFinite(value)) throw malformed(i, end);
    if (have === 0) groupStart = i;
    const moved = value + (have % 2 === 0 ? tx : ty);
    text += have === 0 ? (text.length === 0 ? 'M' : command) : ' ';
    text += roundCoordinate(moved);
    points.push(moved);
    have++;
    if (have === (command === 'C' ? 6 : 2)) {
      have = 0;
      // The group just read ends a segment from the point before it (a subpath's first point, after M, ends none).
      const n = points.length;
      if (n > 2) cross += command === 'C' ? cubicCross(points, n - 8) : lineCross(points[n - 4], points[n - 3], points[n - 2], points[n - 1]);
    }
    i = end;
  }
  if (have > 0) throw malformed(groupStart, d.length);
  flush();
  return out;
}

/** Colours by pixel count, most first (ties: lower index first). */
export function stackOrder(index: Uint8Array, colours: number): number[] {
  const counts = new Float64Array(colours);
  for (const v of index) if (v !== TRANSPARENT) counts[v]++;
  return [...counts.keys()].filter((j) => counts[j] > 0).sort((a, b) => counts[b] - counts[a] || a - b);
}

/**
 * Each layer's pixel bounding box (x0, y0, x1, y1 by stack rank), from one pass over the image:
 * around its colour's own pixels, and when stacked (every layer of curves, the bottom one of
 * pixel outlines) those of every colour above it too: a box around `stackedShape` or
 * `touchingAbove`, which take only the upper pixels they touch.
 */
function layerBounds(index: Uint8Array, width: number, height: number, rank: Int16Array, layers: number, fidelity: Fidelity): Int32Array {
  const bounds = new Int32Array(4 * layers);
  for (let r = 0; r < layers; r++) bounds.set([width, height, -1, -1], 4 * r);
  for (let p = 0; p < index.length; p++) {
    if (index[p] === TRANSPARENT) continue;
    const b = 4 * rank[index[p]];
    const x = p % width;
    const y = (p - x) / width;
    if (x < bounds[b]) bounds[b] = x;
    if (y < bounds[b + 1]) bounds[b + 1] = y;
    if (x > bounds[b + 2]) bounds[b + 2] = x;
    if (y > bounds[b + 3]) bounds[b + 3] = y;
  }
  const widen = (b: number, other: number): void => {
    bounds[b] = Math.min(bounds[b], bounds[other]);
    bounds[b + 1] = Math.min(bounds[b + 1], bounds[other + 1]);
    bounds[b + 2] = Math.max(bounds[b + 2], bounds[other + 2]);
    bounds[b + 3] = Math.max(bounds[b + 3], bounds[other + 3]);
  };
  if (fidelity === 'smooth') for (let r = layers - 2; r >= 0; r--) widen(4 * r, 4 * r + 4);
  else for (let r = 1; r < layers; r++) widen(0, 4 * r);
  return bounds;
}

/** A colour's own pixels in the box (x0, y0, w, h): what its pixel outlines trace. */
function ownPixels(index: Uint8Array, width: number, x0: number, y0: number, w: number, h: number, colour: number): Uint8Array {
  const shape = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) shape[y * w + x] = index[(y + y0) * width + x + x0] === colour ? 1 : 0;
  return shape;
}

/**
 * A colour's own pixels (stack rank `r`) and the pixels of colours above it that they touch
 * (8-connected through such pixels): it runs on under its upper neighbours, not under islands of
 * them it does not touch. With the box's stack rank per pixel (-1: transparent).
 */
function touchingAbove(index: Uint8Array, width: number, x0: number, y0: number, w: number, h: number, rank: Int16Array, r: number): { shape: Uint8Array; ranks: Int16Array } {
  const shape = new Uint8Array(w * h);
  const ranks = new Int16Array(w * h);
  const own: number[] = [];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = index[(y + y0) * width + x + x0];
      const i = y * w + x;
      ranks[i] = v === TRANSPARENT ? -1 : rank[v];
      if (ranks[i] === r) {
        shape[i] = 1;
        own.push(i);
      }
    }
  }
  flood8(w, h, own, (j) => {
    if (shape[j] || ranks[j] <= r) return false;
    shape[j] = 1;
    return true;
  });
  return { shape, ranks };
}

/**
 * The shape a stacked colour of curves is traced as: `touchingAbove`, whose islands left out are
 * surrounded by another colour that runs on under them instead (a curve of this colour's around
 * one would only show as a hairline where it and the island's own curve part), less the upper
 * pixels on an edge with a lower colour or with nothing: this colour's curve and theirs would
 * part there too.
 */
function stackedShape(index: Uint8Array, width: number, x0: number, y0: number, w: number, h: number, rank: Int16Array, r: number): Uint8Array {
  const { shape, ranks } = touchingAbove(index, width, x0, y0, w, h, rank, r);
  // (The box has a pixel of margin around every upper pixel but at the image's edge, so a
  // neighbour outside the box is outside the image.)
  const lower = (x: number, y: number): boolean => x < 0 || y < 0 || x >= w || y >= h || ranks[y * w + x] < r;
  const edge: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (!shape[i] || ranks[i] === r) continue;
    const x = i % w;
    const y = (i - x) / w;
    if (lower(x - 1, y) || lower(x + 1, y) || lower(x, y - 1) || lower(x, y + 1)) edge.push(i);
  }
  for (const i of edge) shape[i] = 0;
  return shape;
}

/** What a layer of pixel outlines traces: the bottom colour stacked (see the top), the others their own pixels. */
function pixelShape(index: Uint8Array, width: number, x0: number, y0: number, w: number, h: number, rank: Int16Array, r: number, colour: number): Uint8Array {
  return r === 0 ? touchingAbove(index, width, x0, y0, w, h, rank, r).shape : ownPixels(index, width, x0, y0, w, h, colour);
}

/**
 * The stacked layers of an indexed image, bottom first; with `minWidth`, only up to the first
 * layer thinner than that (`TracedLayer.thinnest`), for a caller that rejects such a tracing.
 */
export function traceLayers(index: Uint8Array, width: number, height: number, colours: number, fidelity: Fidelity, minWidth = 0): TracedLayer[] {
  const tracer = loadVtracer();
  const order = stackOrder(index, colours);
  const rank = new Int16Array(colours).fill(-1);
  order.forEach((j, r) => (rank[j] = r));
  const bounds = layerBounds(index, width, height, rank, order.length, fidelity);
  const layers: TracedLayer[] = [];
  for (const [r, colour] of order.entries()) {
    // Binary mode traces the dark pixels: the layer's shape. Only its bounding box (and a pixel
    // around it) goes to the tracer: most colours cover a small part of the image.
    const x0 = Math.max(0, bounds[4 * r] - 1);
    const y0 = Math.max(0, bounds[4 * r + 1] - 1);
    const x1 = Math.min(width - 1, bounds[4 * r + 2] + 1);
    const y1 = Math.min(height - 1, bounds[4 * r + 3] + 1);
    const w = x1 - x0 + 1;
    const h = y1 - y0 + 1;
    const shape = fidelity === 'exact' ? pixelShape(index, width, x0, y0, w, h, rank, r, colour) : stackedShape(index, width, x0, y0, w, h, rank, r);
    // White, and the shape black (opaque either way), four bytes a pixel written as one.
    const rgba = Buffer.alloc(w * h * 4);
    const words = new Uint32Array(rgba.buffer, rgba.byteOffset, w * h);
    for (let i = 0; i < shape.length; i++) words[i] = shape[i] ? OPAQUE_BLACK : OPAQUE_WHITE;
    const svg = tracer.vectorizeRawSync(rgba, { width: w, height: h }, CONFIG[fidelity]);
    const kept: string[] = [];
    let thinnest = Infinity;
    for (const [, attributes] of svg.matchAll(PATH_ELEMENT)) {
      const d = PATH_DATA.exec(` ${attributes}`)?.[1] ?? '';
      const translate = TRANSLATE.exec(attributes);
      if (!translate && /transform=/.test(attributes)) throw new Error(`unexpected transform from the tracer: ${attributes.slice(0, 120)}`);
      const tx = x0 + (translate ? Number(translate[1]) : 0);
      const ty = y0 + (translate ? Number(translate[2]) : 0);
      for (const s of subpaths(d, tx, ty)) {
        if (s.area < MIN_SUBPATH_AREA || s.maxX - s.minX < MIN_SUBPATH_SIZE || s.maxY - s.minY < MIN_SUBPATH_SIZE) continue;
        kept.push(s.d);
        thinnest = Math.min(thinnest, s.area / Math.max(s.maxX - s.minX, s.maxY - s.minY));
      }
    }
    if (kept.length > 0) layers.push({ colour, d: kept.join(''), subpaths: kept.length, thinnest });
    if (thinnest < minWidth) break;
  }
  return layers;
}

import type { Image8 } from '../image/image8';
import { meanAbsoluteError } from './compare';
import { imageToOklab } from './oklab';
import type { PaletteColour } from './palette';
import { assignColours, drawnMask, flatness, mergeSpecks, TRANSPARENT } from './quantise';
import { loadResvg, renderSvg } from './render';
import { separateBackground } from './separate';
import { optimiseSvg, svgDocument } from './svg';
import { loadVtracer, traceLayers, type Fidelity } from './trace';

/**
 * One image's share of vectorising: separating it from its background and preparing it, then,
 * given its set's palette, quantising, tracing, svgo and the render-back check. Plain data in
 * and out, so that it runs alike on the caller's thread and in a trace lane (lanes.ts).
 */

export interface VectorStats {
  /** `<path>` elements: one per colour the image uses. */
  paths: number;
  /** Closed outlines and holes over all paths. */
  subpaths: number;
  bytes: number;
  /** Indices into the image's palette of the fills it uses. */
  colours: number[];
  /** `smooth` curves, or `exact` pixel outlines where curves lost too much (noise, photographs). */
  fidelity: Fidelity;
  /**
   * Mean absolute error per channel (8-bit code values, composited on black and on white, the
   * worse) of the SVG rendered back against the quantised raster it traced, and against the PNG.
   */
  errorQuantised: number;
  errorOriginal: number;
}

/** Tracing must stay this close to the quantised raster, and the SVG to the PNG (per channel, of 255). */
export const QUANTISED_LIMIT = 5;
export const ORIGINAL_LIMIT = 9;
/**
 * The most an SVG may differ from its PNG and pass as the same picture; beyond it (soft, partly
 * transparent or finely shaded parts that solid fills cannot draw, even from 128 colours) the
 * result carries a warning.
 */
export const ORIGINAL_BOUND = 10;
/** Regions below this many pixels are merged before curve tracing: curves shrink them to slivers. */
const MIN_REGION = 3;
/**
 * Curves that leave a strip thinner than this (pixels, mean width: `TracedLayer.thinnest`) give way
 * to pixel outlines, whose thinnest strip is a pixel; below 1 so that a curve rounding a
 * one-pixel line a little is not one.
 */
const MIN_CURVE_WIDTH = 0.75;

export interface Prepared {
  /** What the SVG reproduces: the separated RGBA image, or the input. */
  target: Image8;
  lab: Float32Array;
  drawn: Uint8Array;
  flat: Float32Array;
  /**
   * The last palette's nearest colour per pixel (`key`: its colours): the growing palette's
   * check computes what tracing with that palette needs, pixel outlines and curves alike.
   */
  exact?: { key: string; index: Uint8Array };
}

export interface Traced {
  svg: string;
  stats: VectorStats;
  /** The quantised raster it traced, as an image. */
  quantised: Image8;
}

function paletteKey(palette: readonly PaletteColour[]): string {
  return palette.map((c) => c.hex).join();
}

/** Loads what the per-image work needs and loads on first use: svgo, the tracer and the renderer. */
export async function loadVectorLibraries(): Promise<void> {
  await import('svgo/browser');
  loadVtracer();
  loadResvg();
}

export function prepare(image: Image8): Prepared {
  const lab = imageToOklab(image.data, image.channels);
  const drawn = drawnMask(image);
  return { target: image, lab, drawn, flat: flatness(lab, drawn, image.width, image.height) };
}

function quantisedImage(index: Uint8Array, palette: readonly PaletteColour[], like: Image8): Image8 {
  const channels = like.channels;
  const data = new Uint8Array(index.length * channels);
  for (let p = 0; p < index.length; p++) {
    if (index[p] === TRANSPARENT) continue;
    data.set(palette[index[p]].rgb, p * channels);
    if (channels === 4) data[4 * p + 3] = 255;
  }
  return { width: like.width, height: like.height, channels, data };
}

/**
 * The quantised raster a fidelity traces: curves need clean edges and no specks; pixel outlines
 * reproduce every pixel. With `limit`, undefined for curves whose raster is further than that
 * from the image before its specks are merged: merging moves pixels off the colour they were
 * given (on the embedded model's sets 0 to 1.2 more error, never less), so it would stay further.
 * With `mergeBelow`, pixel outlines too are of a raster whose specks under that many pixels took
 * the neighbouring colour nearest their own (`traceWithinBudget`).
 */
function quantise(prepared: Prepared, palette: readonly PaletteColour[], fidelity: Fidelity, limit = Infinity, mergeBelow = 0): Uint8Array | undefined {
  const { target, lab, drawn, flat } = prepared;
  const key = paletteKey(palette);
  // Every pixel's nearest colour: what pixel outlines trace, and what curves start from.
  if (prepared.exact?.key !== key) prepared.exact = { key, index: assignColours(lab, drawn, undefined, target.width, target.height, palette) };
  if (fidelity === 'exact') {
    if (mergeBelow === 0) return prepared.exact.index;
    const merged = prepared.exact.index.slice();
    mergeSpecks(merged, target.width, target.height, mergeBelow, { lab, palette });
    return merged;
  }
  const index = assignColours(lab, drawn, flat, target.width, target.height, palette, prepared.exact.index);
  if (limit < Infinity && meanAbsoluteError(quantisedImage(index, palette, target), target) > limit) return undefined;
  mergeSpecks(index, target.width, target.height, MIN_REGION);
  return index;
}

/**
 * Smooth curves, or pixel outlines where curves lose too much; each SVG measured by rendering it
 * back, except a sole traced one that `finishImage` measures anyway (`finishing`): nothing is
 * chosen on its numbers, and its errors are NaN until then. `mergeBelow`: see `quantise`.
 */
export function traceImage(prepared: Prepared, palette: readonly PaletteColour[], fidelities: readonly Fidelity[] = ['smooth', 'exact'], finishing = false, mergeBelow = 0): Traced {
  const { target } = prepared;
  const { width, height } = target;
  let best: Traced | undefined;
  for (const [attempt, fidelity] of fidelities.entries()) {
    // Tracing only adds to the quantised raster's own error: when that is over the limit
    // already (noise merged away as specks), the next fidelity is the one to trace.
    const last = attempt === fidelities.length - 1;
    const index = quantise(prepared, palette, fidelity, last ? Infinity : ORIGINAL_LIMIT, mergeBelow);
    if (index === undefined) continue;
    const quantised = quantisedImage(index, palette, target);
    if (!last && meanAbsoluteError(quantised, target) > ORIGINAL_LIMIT) continue;
    // Noise traced with curves leaves slivers no designer wants (and no pixel outline makes):
    // such curves give way to the next fidelity, so their tracing stops at the first.
    const minWidth = !last && fidelity === 'smooth' ? MIN_CURVE_WIDTH : 0;
    const layers = traceLayers(index, width, height, palette.length, fidelity, minWidth);
    if (layers.some((l) => l.thinnest < minWidth)) continue;
    const svg = svgDocument(width, height, layers, palette);
    const unmeasured = finishing && last && !best;
    const rendered = unmeasured ? undefined : renderSvg(svg, width);
    const stats: VectorStats = {
      paths: layers.length,
      subpaths: layers.reduce((s, l) => s + l.subpaths, 0),
      bytes: Buffer.byteLength(svg),
      colours: [...new Set(layers.map((l) => l.colour))].sort((a, b) => a - b),
      fidelity,
      errorQuantised: rendered ? meanAbsoluteError(rendered, quantised) : NaN,
      errorOriginal: rendered ? meanAbsoluteError(rendered, target) : NaN,
    };
    if (unmeasured) return { svg, stats, quantised };
    if (!best || stats.errorQuantised < best.stats.errorQuantised) best = { svg, stats, quantised };
    if (stats.errorQuantised <= QUANTISED_LIMIT && stats.errorOriginal <= ORIGINAL_LIMIT) break;
  }
  return best!;
}

/** How far the quantised raster (every pixel its nearest colour) is from the image: what pixel outlines reproduce. */
export function quantisationError(prepared: Prepared, palette: readonly PaletteColour[]): number {
  return meanAbsoluteError(quantisedImage(quantise(prepared, palette, 'exact')!, palette, prepared.target), prepared.target);
}

/**
 * What is written: the SVG through svgo, and its numbers measured again on that (the search
 * measured svgo's input).
 */
export async function finishImage(prepared: Prepared, traced: Traced): Promise<Traced> {
  const svg = await optimiseSvg(traced.svg);
  const rendered = renderSvg(svg, prepared.target.width);
  return {
    svg,
    quantised: traced.quantised,
    stats: {
      ...traced.stats,
      bytes: Buffer.byteLength(svg),
      errorQuantised: meanAbsoluteError(rendered, traced.quantised),
      errorOriginal: meanAbsoluteError(rendered, prepared.target),
    },
  };
}

/**
 * Bytes an SVG should take at most, per pixel of its image: 20 KB for a 128 px icon. Pixel
 * outlines of a noisy raster, from a palette grown to 32 colours or more, can run past it, and
 * so can curves around a mottled icon's many small regions.
 */
const BYTES_PER_PIXEL = (20 * 1024) / (128 * 128);
/** `mergeSpecks`' minimum area that merges lone pixels only. */
const LONE_PIXELS = 2;

/**
 * Traced and finished; an SVG over the size budget is traced again as pixel outlines of the
 * raster with its lone pixels given the neighbouring colour nearest their own, and that SVG is
 * kept when it is smaller and still within `ORIGINAL_BOUND` of the PNG. (On the embedded model's
 * sets: pixel outlines 26.8 -> 18.3 KB at 8.3 -> 8.9/255 and 28.9 -> 16.8 KB at 8.7 -> 9.5; by the
 * longest border instead, 9.5 and 10.3/255; regions of up to 2 pixels, 9.3 and 9.9; of up to 3,
 * 9.7 and 10.2. Curves around a mottled icon's many small regions: 24.1 -> 13.7 KB at 8.4 -> 8.0.)
 */
async function traceWithinBudget(prepared: Prepared, palette: readonly PaletteColour[], fidelities: readonly Fidelity[]): Promise<Traced> {
  const traced = await finishImage(prepared, traceImage(prepared, palette, fidelities, true));
  const { width, height } = prepared.target;
  if (traced.stats.bytes <= BYTES_PER_PIXEL * width * height) return traced;
  const merged = await finishImage(prepared, traceImage(prepared, palette, ['exact'], true, LONE_PIXELS));
  return merged.stats.bytes < traced.stats.bytes && merged.stats.errorOriginal <= ORIGINAL_BOUND ? merged : traced;
}

/** An image cut out of its background (when asked and possible), and prepared for tracing (when asked). */
export interface Separated {
  png: Image8;
  separated: boolean;
  /** Why the background was kept although removal was asked for. */
  warning?: string;
  prepared?: Prepared;
}

function separate(image: Image8, transparent: boolean, prepareIt: boolean): Separated {
  let out: Separated = { png: image, separated: false };
  if (transparent) {
    const separation = separateBackground(image);
    out = separation.separated ? { png: separation.image, separated: true } : { png: image, separated: false, warning: separation.warning };
  }
  return prepareIt ? { ...out, prepared: prepare(out.png) } : out;
}

/**
 * One image's work as plain data (what a trace lane is sent): separated and prepared; or traced
 * with the palette and finished (svgo, measured as written).
 */
export interface SeparateTask {
  op: 'separate';
  image: Image8;
  transparent: boolean;
  prepare: boolean;
}
export interface TraceTask {
  op: 'trace';
  prepared: Prepared;
  palette: readonly PaletteColour[];
  fidelities: readonly Fidelity[];
}
export type ImageTask = SeparateTask | TraceTask;

interface TaskResults {
  separate: Separated;
  trace: Traced;
}
export type ImageResult<T extends ImageTask = ImageTask> = TaskResults[T['op']];

export async function runImageTask<T extends ImageTask>(task: T): Promise<ImageResult<T>> {
  const t: ImageTask = task;
  switch (t.op) {
    case 'separate':
      return separate(t.image, t.transparent, t.prepare) as ImageResult<T>;
    case 'trace':
      return (await traceWithinBudget(t.prepared, t.palette, t.fidelities)) as ImageResult<T>;
  }
}

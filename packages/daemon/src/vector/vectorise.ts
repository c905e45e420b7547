import type { Image8 } from '../image/image8';
import { meanAbsoluteError } from './compare';
import { imageToOklab } from './oklab';
import { ColourBins, fitPalette, type PaletteColour, type PalettePoint } from './palette';
import { assignColours, drawnMask, flatness, mergeSpecks, TRANSPARENT } from './quantise';
import { loadResvg, renderSvg } from './render';
import { separateBackground } from './separate';
import { optimiseSvg, svgDocument } from './svg';
import { loadVtracer, traceLayers, type Fidelity } from './trace';

export type BackgroundMode = 'keep' | 'transparent';
/** One palette shared by every image of the set, or one per image. */
export type PaletteScope = 'set' | 'image';

export interface VectorOptions {
  background: BackgroundMode;
  /** Trace SVGs; without, only the background is removed (when asked). */
  svg: boolean;
  palette: PaletteScope;
  /**
   * Awaited between images (tracing is synchronous work of up to seconds per image): gives a
   * caller's event loop a turn, and stops the set by rejecting (a cancelled job).
   */
  checkpoint?: () => Promise<void>;
}

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

export interface VectorImage {
  /** The PNG to write: RGBA with the background removed, or the input as it was. */
  png: Image8;
  /** Whether the background was removed (only asked for with `background: 'transparent'`). */
  separated: boolean;
  /** Why the background was kept although removal was asked for. */
  warning?: string;
  svg?: string;
  /** The palette-indexed raster the SVG traces (transparent where nothing is drawn). */
  quantised?: Image8;
  /** Index into `VectorSet.palettes` of the palette its SVG uses. */
  palette?: number;
  stats?: VectorStats;
  /** Why it has no SVG although one was asked for (tracing or rendering it failed): the other images are unaffected. */
  error?: string;
}

export interface VectorSet {
  images: VectorImage[];
  /** One palette for the set, or one per image (`palette: 'image'`); empty without SVGs. */
  palettes: PaletteColour[][];
}

/**
 * Palette targets. First the icon's own colours: added until flat pixels (edges weigh little)
 * are on average within 0.02 of their colour in OKLab, about one just-noticeable difference,
 * at most 16. If the SVG then still differs from the PNG by more than `ORIGINAL_LIMIT`
 * (shaded or noisy images, photographs), the palette doubles, fitted to all pixels alike, up
 * to `MAX_COLOURS`.
 */
const FLAT_TARGET = 0.02;
const ICON_COLOURS = 16;
const MAX_COLOURS = 128;
/** Tracing must stay this close to the quantised raster, and the SVG to the PNG (per channel, of 255). */
const QUANTISED_LIMIT = 5;
const ORIGINAL_LIMIT = 9;
/** Regions below this many pixels are merged before curve tracing: curves shrink them to slivers. */
const MIN_REGION = 3;

interface Prepared {
  /** What the SVG reproduces: the separated RGBA image, or the input. */
  target: Image8;
  lab: Float32Array;
  drawn: Uint8Array;
  flat: Float32Array;
}

interface Traced {
  svg: string;
  stats: VectorStats;
}

function prepare(image: Image8): Prepared {
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

/** The quantised raster a fidelity traces: curves need clean edges and no specks; pixel outlines reproduce every pixel. */
function quantise(prepared: Prepared, palette: readonly PaletteColour[], fidelity: Fidelity): Uint8Array {
  const { target, lab, drawn, flat } = prepared;
  if (fidelity === 'exact') return assignColours(lab, drawn, undefined, target.width, target.height, palette);
  const index = assignColours(lab, drawn, flat, target.width, target.height, palette);
  mergeSpecks(index, target.width, target.height, MIN_REGION);
  return index;
}

/** Smooth curves, or pixel outlines where curves lose too much; each SVG measured by rendering it back. */
function traceImage(prepared: Prepared, palette: readonly PaletteColour[], fidelities: readonly Fidelity[] = ['smooth', 'exact']): Traced {
  const { target } = prepared;
  const { width, height } = target;
  let best: Traced | undefined;
  for (const [attempt, fidelity] of fidelities.entries()) {
    const index = quantise(prepared, palette, fidelity);
    // Tracing only adds to the quantised raster's own error: when that is over the limit
    // already (noise merged away as specks), the next fidelity is the one to trace.
    const last = attempt === fidelities.length - 1;
    if (!last && meanAbsoluteError(quantisedImage(index, palette, target), target) > ORIGINAL_LIMIT) continue;
    const layers = traceLayers(index, width, height, palette.length, fidelity);
    const svg = svgDocument(width, height, layers, palette);
    const rendered = renderSvg(svg, width);
    const stats: VectorStats = {
      paths: layers.length,
      subpaths: layers.reduce((s, l) => s + l.subpaths, 0),
      bytes: Buffer.byteLength(svg),
      colours: [...new Set(layers.map((l) => l.colour))].sort((a, b) => a - b),
      fidelity,
      errorQuantised: meanAbsoluteError(rendered, quantisedImage(index, palette, target)),
      errorOriginal: meanAbsoluteError(rendered, target),
    };
    if (!best || stats.errorQuantised < best.stats.errorQuantised) best = { svg, stats };
    if (stats.errorQuantised <= QUANTISED_LIMIT && stats.errorOriginal <= ORIGINAL_LIMIT) break;
  }
  return best!;
}

function paletteSources(group: readonly Prepared[]): { flat: PalettePoint[]; all: PalettePoint[] } {
  const flat = new ColourBins();
  const all = new ColourBins();
  for (const { target, lab, drawn, flat: f } of group) {
    flat.add(target.data, lab, f, target.channels);
    all.add(target.data, lab, Float32Array.from(drawn), target.channels);
  }
  return { flat: flat.points(), all: all.points() };
}

/** How far the quantised raster (every pixel its nearest colour) is from the image: what pixel outlines reproduce. */
function quantisationError(prepared: Prepared, palette: readonly PaletteColour[]): number {
  return meanAbsoluteError(quantisedImage(quantise(prepared, palette, 'exact'), palette, prepared.target), prepared.target);
}

/**
 * Traces a group of images that share one palette. The icon palette first, which suffices for
 * flat-coloured icons; if an SVG is still too far from its PNG, the palette doubles, fitted to
 * all pixels, until every image's quantised raster is within the limit (measured without
 * tracing, so this is cheap), and the images trace again: with curves where curves did follow
 * the raster before (the colours were what fell short), with pixel outlines otherwise.
 */
async function traceGroup(group: readonly Prepared[], checkpoint: Checkpoint): Promise<{ palette: PaletteColour[]; traced: Array<Traced | Error> }> {
  const sources = paletteSources(group);
  const iconPalette = fitPalette(sources.flat, { targetError: FLAT_TARGET, maxColours: ICON_COLOURS }).colours;
  // No tracing can come closer to the image than its quantised raster: if that is too far
  // already, the palette must grow, and tracing it first would be wasted.
  const colourful = group.every((prepared) => quantisationError(prepared, iconPalette) <= ORIGINAL_LIMIT);
  const first = colourful ? await traceEach(group, checkpoint, (prepared) => traceImage(prepared, iconPalette)) : undefined;
  // An image that failed to trace fails again with more colours: it does not make the palette grow.
  if (first && first.every((t) => t instanceof Error || t.stats.errorOriginal <= ORIGINAL_LIMIT)) return { palette: iconPalette, traced: first };

  let palette = iconPalette;
  while (palette.length < MAX_COLOURS) {
    const size = Math.min(MAX_COLOURS, palette.length * 2);
    const grown = fitPalette(sources.all, { targetError: 0, minColours: size, maxColours: size, initial: palette.map((c) => c.lab) }).colours;
    if (grown.length <= palette.length) break;
    palette = grown;
    if (group.every((prepared) => quantisationError(prepared, palette) <= ORIGINAL_LIMIT)) break;
  }
  const traced = await traceEach(group, checkpoint, (prepared, i) => {
    const before = first?.[i];
    if (before instanceof Error) return before;
    const curvesFailed = before !== undefined && (before.stats.fidelity === 'exact' || before.stats.errorQuantised > QUANTISED_LIMIT);
    return traceImage(prepared, palette, curvesFailed ? ['exact'] : ['smooth', 'exact']);
  });
  return { palette, traced };
}

type Checkpoint = () => Promise<void>;

/**
 * One image after another, each given its turn by `checkpoint` first. An image that throws
 * becomes its Error (the native tracer or renderer failing on it costs that image alone); a
 * checkpoint that throws (a cancel) stops them all.
 */
async function traceEach<T>(group: readonly Prepared[], checkpoint: Checkpoint, trace: (prepared: Prepared, i: number) => T | Error): Promise<Array<T | Error>> {
  const out: Array<T | Error> = [];
  for (const [i, prepared] of group.entries()) {
    await checkpoint();
    try {
      out.push(trace(prepared, i));
    } catch (error) {
      out.push(error instanceof Error ? error : new Error(String(error)));
    }
  }
  return out;
}

/**
 * Transparent backgrounds and SVGs for a generated set, in the set's order. Never throws on
 * image content: an image whose background cannot be found keeps it, with a warning.
 */
export async function vectoriseSet(images: readonly Image8[], options: VectorOptions): Promise<VectorSet> {
  const results: VectorImage[] = images.map((image) => {
    if (options.background === 'keep') return { png: image, separated: false };
    const separation = separateBackground(image);
    return separation.separated
      ? { png: separation.image, separated: true }
      : { png: image, separated: false, warning: separation.warning };
  });
  if (!options.svg || images.length === 0) return { images: results, palettes: [] };

  const checkpoint = options.checkpoint ?? (async () => undefined);
  const prepared = results.map((r) => prepare(r.png));
  const groups = options.palette === 'set' ? [prepared.map((_, i) => i)] : prepared.map((_, i) => [i]);
  const palettes: PaletteColour[][] = [];
  for (const members of groups) {
    const { palette, traced } = await traceGroup(members.map((i) => prepared[i]), checkpoint);
    for (const [m, i] of members.entries()) {
      await checkpoint();
      const t = traced[m];
      try {
        if (t instanceof Error) throw t;
        // The search measured svgo's input; the numbers reported are those of what is written.
        const svg = await optimiseSvg(t.svg);
        const rendered = renderSvg(svg, images[i].width);
        const quantised = quantisedImage(quantise(prepared[i], palette, t.stats.fidelity), palette, prepared[i].target);
        results[i].svg = svg;
        results[i].quantised = quantised;
        results[i].stats = {
          ...t.stats,
          bytes: Buffer.byteLength(svg),
          errorQuantised: meanAbsoluteError(rendered, quantised),
          errorOriginal: meanAbsoluteError(rendered, prepared[i].target),
        };
        results[i].palette = palettes.length;
      } catch (error) {
        results[i].error = (error as Error).message ?? String(error);
      }
    }
    palettes.push(palette);
  }
  return pruneUnused({ images: results, palettes });
}

/**
 * Drops palette colours no SVG ended up using (a palette fitted over all pixels can keep a
 * colour only blend pixels chose), renumbering the images' colour lists.
 */
function pruneUnused(set: VectorSet): VectorSet {
  const palettes = set.palettes.map((palette, k) => {
    const used = new Set(set.images.filter((im) => im.palette === k).flatMap((im) => im.stats?.colours ?? []));
    const keep = palette.map((_, j) => j).filter((j) => used.has(j));
    const renumber = new Map(keep.map((j, i) => [j, i]));
    for (const im of set.images) {
      if (im.palette === k && im.stats) im.stats.colours = im.stats.colours.map((j) => renumber.get(j)!);
    }
    return keep.map((j) => palette[j]);
  });
  return { images: set.images, palettes };
}

/** Loads svgo, the tracer and the renderer ahead of need, e.g. while a set is still being generated. */
export async function preloadVectorLibraries(): Promise<void> {
  await import('svgo');
  loadVtracer();
  loadResvg();
}

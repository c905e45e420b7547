import type { Image8 } from '../image/image8';
import { runInLanes, startLanes } from './lanes';
import { ColourBins, fitPalette, type PaletteColour, type PalettePoint } from './palette';
import type { Fidelity } from './trace';
import { loadVectorLibraries, ORIGINAL_LIMIT, prepare, QUANTISED_LIMIT, quantisationError, type Prepared, type SeparateTask, type Traced, type TraceTask, type VectorStats } from './trace-image';

export { ORIGINAL_BOUND, type VectorStats } from './trace-image';

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
  /** Threads to trace on: 1 is this one; more, or absent (one per core, up to 4), are worker threads (see lanes.ts). */
  lanes?: number;
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
  /** Threads the images were traced on (see lanes.ts). */
  lanes: number;
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
function paletteSources(group: readonly Prepared[]): { flat: PalettePoint[]; all: PalettePoint[] } {
  const flat = new ColourBins();
  const all = new ColourBins();
  for (const { target, lab, drawn, flat: f } of group) {
    flat.add(target.data, lab, f, target.channels);
    all.add(target.data, lab, Float32Array.from(drawn), target.channels);
  }
  return { flat: flat.points(), all: all.points() };
}

type LaneChoice = Pick<VectorOptions, 'lanes'> & { checkpoint(): Promise<void> };

/**
 * Traces a group of images that share one palette. The icon palette first, which suffices for
 * flat-coloured icons; if an SVG is still too far from its PNG, the palette doubles, fitted to
 * all pixels from the last size's colours, until every image's quantised raster is within the
 * limit (measured without tracing, so this is cheap), and the images trace again: with curves where curves did follow
 * the raster before (the colours were what fell short), with pixel outlines otherwise.
 */
async function traceGroup(group: readonly Prepared[], lanes: LaneChoice): Promise<{ palette: PaletteColour[]; results: Array<Traced | Error>; lanes: number }> {
  const sources = paletteSources(group);
  const iconPalette = fitPalette(sources.flat, { targetError: FLAT_TARGET, maxColours: ICON_COLOURS }).colours;
  // No tracing can come closer to the image than its quantised raster: if that is too far
  // already, the palette must grow, and tracing it first would be wasted.
  const colourful = group.every((prepared) => quantisationError(prepared, iconPalette) <= ORIGINAL_LIMIT);
  const tasks = (palette: PaletteColour[], fidelities: (i: number) => Fidelity[] | Error) =>
    group.map((prepared, i): TraceTask | Error => {
      const chosen = fidelities(i);
      return chosen instanceof Error ? chosen : { op: 'trace', prepared, palette, fidelities: chosen };
    });
  // Finished (svgo, measured as written) in the same pass: the icon palette is usually final,
  // and measuring before svgo as well would render every image twice.
  const first = colourful ? await runInLanes(tasks(iconPalette, () => BOTH), lanes) : undefined;
  // An image that failed to trace fails again with more colours: it does not make the palette grow.
  if (first && first.results.every((t) => t instanceof Error || t.stats.errorOriginal <= ORIGINAL_LIMIT)) {
    return { palette: iconPalette, ...first };
  }

  let palette = iconPalette;
  while (palette.length < MAX_COLOURS) {
    const size = Math.min(MAX_COLOURS, palette.length * 2);
    const grown = fitPalette(sources.all, { targetError: 0, minColours: size, maxColours: size, initial: palette.map((c) => c.lab) }).colours;
    if (grown.length <= palette.length) break;
    palette = grown;
    if (group.every((prepared) => quantisationError(prepared, palette) <= ORIGINAL_LIMIT)) break;
  }
  const again = tasks(palette, (i) => {
    const before = first?.results[i];
    if (before instanceof Error) return before;
    const curvesFailed = before !== undefined && (before.stats.fidelity === 'exact' || before.stats.errorQuantised > QUANTISED_LIMIT);
    return curvesFailed ? ['exact'] : BOTH;
  });
  return { palette, ...(await runInLanes(again, lanes)) };
}

const BOTH: Fidelity[] = ['smooth', 'exact'];

/**
 * Transparent backgrounds and SVGs for a generated set, in the set's order. Never throws on
 * image content: an image whose background cannot be found keeps it, with a warning.
 */
export async function vectoriseSet(images: readonly Image8[], options: VectorOptions): Promise<VectorSet> {
  const transparent = options.background === 'transparent';
  if (images.length === 0 || !(transparent || options.svg)) return { images: images.map((png) => ({ png, separated: false })), palettes: [], lanes: 1 };

  const lanes: LaneChoice = { lanes: options.lanes, checkpoint: options.checkpoint ?? (async () => undefined) };
  // Separating and preparing are per image too: the lanes do them side by side.
  const separating = await runInLanes(
    images.map((image): SeparateTask => ({ op: 'separate', image, transparent, prepare: options.svg })),
    lanes,
  );
  const prepared: Prepared[] = [];
  const results = separating.results.map((s, i): VectorImage => {
    // Separation does not fail on an image's content; anything else keeps that image's background.
    const { png, separated, warning, prepared: p } = s instanceof Error ? { png: images[i], separated: false, warning: `separating it failed (${s.message})` } : s;
    if (options.svg) prepared.push(p ?? prepare(png));
    // A lane hands back a copy: an image kept as it was is the caller's own.
    return separated ? { png, separated } : { png: images[i], separated, ...(transparent && { warning }) };
  });
  if (!options.svg) return { images: results, palettes: [], lanes: separating.lanes };

  const groups = options.palette === 'set' ? [prepared.map((_, i) => i)] : prepared.map((_, i) => [i]);
  const palettes: PaletteColour[][] = [];
  let used = separating.lanes;
  for (const members of groups) {
    const group = await traceGroup(members.map((i) => prepared[i]), lanes);
    used = Math.max(used, group.lanes);
    for (const [m, i] of members.entries()) {
      const t = group.results[m];
      if (t instanceof Error) {
        results[i].error = t.message;
        continue;
      }
      results[i].svg = t.svg;
      results[i].quantised = t.quantised;
      results[i].stats = t.stats;
      results[i].palette = palettes.length;
    }
    palettes.push(group.palette);
  }
  return pruneUnused({ images: results, palettes, lanes: used });
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
  return { ...set, palettes };
}

/**
 * Loads svgo, the tracer and the renderer ahead of need, e.g. while a set is still being
 * generated, and starts the trace lanes, which load them too.
 */
export async function preloadVectorLibraries(): Promise<void> {
  startLanes();
  await loadVectorLibraries();
}

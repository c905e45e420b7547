import { VECTOR_LIMITS, type ResolvedOptions, type VectorSummary } from '@styleset/protocol';
import { CancelledError } from '../errors';
import type { Image8 } from '../image/image8';
import type { EngineSvg, EngineVectorSet } from './engine';

type VectorModule = typeof import('../vector');
type VectorChoice = Pick<ResolvedOptions, 'format' | 'background' | 'palette'>;

/** Whether a job needs the vector module at all: a plain PNG job never loads it. */
export function needsVector(options: VectorChoice): boolean {
  return options.format !== 'png' || options.background !== 'keep';
}

export interface VectorStageLimits {
  /** An SVG bigger than this is dropped, with a warning (default VECTOR_LIMITS.maxSvgBytes, which clients enforce). */
  maxSvgBytes?: number;
}

interface Kept {
  index: number;
  prompt: string;
  seed: number;
  /** What the SVG traces: the PNG's pixels (RGBA when the background was removed). */
  image: Image8;
  /** Why its background stayed, when `transparent` was asked for. */
  backgroundKept?: string;
}

/**
 * Vector output for one job, between the decoder and the job's consumer (in the daemon, inside
 * the engine process, so that this synchronous CPU work never holds up the daemon's event loop).
 * Each image is separated from its background while the next is decoded, so its PNG streams out
 * as before; the SVGs need the whole set's palette, so they are made once the last image is in.
 * Nothing here fails the job on an image's content: an image that cannot be separated keeps its
 * background, and one that cannot be traced loses its SVG, each with a warning.
 */
export class VectorStage {
  private readonly kept: Kept[] = [];

  private constructor(
    private readonly vector: VectorModule,
    private readonly options: VectorChoice,
    private readonly maxSvgBytes: number,
  ) {}

  /**
   * Loads the vector module, and with SVG asked for, its native libraries and svgo, which take a
   * while: started with the job, this overlaps the model's work. A library that does not load
   * costs the SVGs (with warnings), not the job.
   */
  static async open(options: VectorChoice, limits: VectorStageLimits = {}): Promise<VectorStage> {
    const vector = await import('../vector');
    if (options.format !== 'png') await vector.preloadVectorLibraries().catch(() => undefined);
    return new VectorStage(vector, options, limits.maxSvgBytes ?? VECTOR_LIMITS.maxSvgBytes);
  }

  get wantsSvg(): boolean {
    return this.options.format !== 'png';
  }

  /**
   * The image its PNG result shows: cut out of its background when that was asked for and
   * possible. The cut-out is made on a trace lane (a worker thread, where there is one), so
   * the caller's thread goes on decoding the next image meanwhile.
   */
  async add(meta: { index: number; prompt: string; seed: number }, image: Image8): Promise<{ image: Image8; transparent?: boolean; warning?: string }> {
    if (this.options.background === 'keep') {
      if (this.wantsSvg) this.kept.push({ ...meta, image });
      return { image };
    }
    let separated: Image8 | undefined;
    let reason: string | undefined;
    try {
      const [cut] = (await this.vector.vectoriseSet([image], { background: 'transparent', svg: false, palette: 'set' })).images;
      if (cut.separated) separated = cut.png;
      else reason = cut.warning ?? 'it could not be told apart from the icon';
    } catch (error) {
      reason = `separating it failed (${(error as Error).message})`;
    }
    const shown = separated ?? image;
    if (this.wantsSvg) this.kept.push({ ...meta, image: shown, backgroundKept: reason });
    return separated !== undefined ? { image: separated, transparent: true } : { image, transparent: false, warning: backgroundWarning(reason!) };
  }

  /**
   * The set's SVGs in index order, with their palettes. `checkpoint` runs between images: it gives
   * the event loop a turn (a cancel arrives that way) and stops the set by throwing.
   */
  async svgs(checkpoint: () => Promise<void>): Promise<EngineVectorSet> {
    const started = performance.now();
    const kept = [...this.kept].sort((a, b) => a.index - b.index);
    let traced: Awaited<ReturnType<VectorModule['vectoriseSet']>> | undefined;
    let setError: string | undefined;
    try {
      // The images are separated already: tracing them as they are keeps their alpha.
      traced = await this.vector.vectoriseSet(
        kept.map((k) => k.image),
        { background: 'keep', svg: true, palette: this.options.palette, checkpoint },
      );
    } catch (error) {
      // A cancel stops the job; anything else (a native library that did not load) costs the SVGs.
      if (error instanceof CancelledError) throw error;
      setError = (error as Error).message;
    }
    const images: EngineSvg[] = kept.map((k, i) => {
      const base = { index: k.index, prompt: k.prompt, seed: k.seed, width: k.image.width, height: k.image.height };
      const result = traced?.images[i];
      const why = setError ?? result?.error ?? (result?.svg === undefined ? 'the tracer returned nothing' : undefined);
      if (why !== undefined) return { ...base, warning: joinWarnings(k.backgroundKept, svgWarning(why)) };
      const bytes = new TextEncoder().encode(result!.svg);
      if (bytes.length > this.maxSvgBytes) {
        return { ...base, warning: joinWarnings(k.backgroundKept, svgWarning(`it came to ${bytes.length} bytes, over the limit of ${this.maxSvgBytes} (maxSvgBytes)`)) };
      }
      const palette = traced!.palettes[result!.palette!];
      const stats = result!.stats!;
      const approximate = stats.errorOriginal > this.vector.ORIGINAL_BOUND ? approximateWarning(stats.errorOriginal, this.vector.ORIGINAL_BOUND) : undefined;
      const warning = approximate !== undefined ? joinWarnings(k.backgroundKept, approximate) : k.backgroundKept !== undefined ? backgroundWarning(k.backgroundKept) : undefined;
      return {
        ...base,
        svg: bytes,
        ...(warning !== undefined && { warning }),
        palette: result!.palette,
        stats: { ...stats, colours: stats.colours.map((j) => palette[j].hex) },
      };
    });
    return { images, summary: summarise(images, traced?.palettes.map((p) => p.map((c) => c.hex)) ?? []), ms: Math.round(performance.now() - started) };
  }
}

/**
 * The palettes that SVGs use, each with its images (job indices), renumbered without those no SVG
 * uses (every image of an `image`-scoped palette failed); the images without an SVG.
 */
function summarise(images: EngineSvg[], palettes: string[][]): VectorSummary {
  const used = palettes.map((_, k) => images.filter((im) => im.svg !== undefined && im.palette === k).map((im) => im.index));
  const keep = palettes.map((_, k) => k).filter((k) => used[k].length > 0 && palettes[k].length > 0);
  const renumber = new Map(keep.map((k, n) => [k, n]));
  for (const im of images) if (im.palette !== undefined) im.palette = renumber.get(im.palette);
  const failed = images.filter((im) => im.svg === undefined).map((im) => ({ index: im.index, warning: im.warning! }));
  return {
    palettes: keep.map((k) => ({ colors: palettes[k], images: used[k] })),
    ...(failed.length > 0 && { failed }),
  };
}

/** A native library's message can be longer than a warning may be. */
function clip(text: string): string {
  const max = VECTOR_LIMITS.maxWarningLength;
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function backgroundWarning(reason: string): string {
  return clip(`background kept: ${reason}`);
}

function approximateWarning(error: number, bound: number): string {
  return clip(`SVG approximate: it differs from its PNG by ${error.toFixed(1)}/255 on average (more than ${bound}): solid fills cannot draw the PNG's soft, partly transparent or finely shaded parts`);
}

function svgWarning(reason: string): string {
  return clip(`no SVG: ${reason}`);
}

function joinWarnings(backgroundKept: string | undefined, other: string): string {
  return backgroundKept === undefined ? other : clip(`${backgroundWarning(backgroundKept)}; ${other}`);
}

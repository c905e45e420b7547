import { writeFile } from 'node:fs/promises';
import { decodePng } from '../image/png';
import { DEFAULT_DECODE_LIMITS } from '../image/image8';
import { encodePng } from '../image/png';
import type { BackgroundMode, PaletteScope } from '../vector';

export type OutputFormat = 'png' | 'svg' | 'both';

export interface VectorFlags {
  format: OutputFormat;
  background: BackgroundMode;
  palette: PaletteScope;
}

/** Whether a run needs the vector module at all: a plain PNG run never loads it. */
export function needsVector(flags: VectorFlags): boolean {
  return flags.format !== 'png' || flags.background !== 'keep';
}

export interface WrittenImage {
  index: number;
  /** The PNG path (also when only SVGs are asked for: then it is where the PNG would be). */
  file: string;
  png: Uint8Array;
}

/** What set.json records per image. */
export interface ImageVectorRecord {
  png?: string;
  svg?: string;
  transparent: boolean;
  warning?: string;
  palette?: number;
  colours?: string[];
  paths?: number;
  subpaths?: number;
  bytes?: number;
  fidelity?: string;
  errorQuantised?: number;
  errorOriginal?: number;
}

export interface SetVectorRecord {
  format: OutputFormat;
  background: BackgroundMode;
  palette: PaletteScope;
  /** Each palette's colours and which images (by index) use each. */
  palettes: { colours: { hex: string; images: number[] }[] }[];
  images: ImageVectorRecord[];
  ms: number;
}

const round2 = (v: number): number => Math.round(v * 100) / 100;

/**
 * Transparent PNGs and SVGs next to the PNGs, after the set is generated (one palette needs
 * every image). The model's PNGs are already on disk when this runs, or are written first if it
 * fails, so a failure here never loses the set.
 */
export async function writeVectorOutputs(images: readonly WrittenImage[], flags: VectorFlags): Promise<SetVectorRecord> {
  const started = performance.now();
  const { vectoriseSet } = await import('../vector');
  const decoded = images.map((im) => decodePng(im.png, im.file, DEFAULT_DECODE_LIMITS));
  const wantSvg = flags.format !== 'png';
  const wantPng = flags.format !== 'svg';
  let set;
  try {
    set = await vectoriseSet(decoded, { background: flags.background, svg: wantSvg, palette: flags.palette });
  } catch (e) {
    if (!wantPng) await Promise.all(images.map((im) => writeFile(im.file, im.png)));
    throw e;
  }
  const records: ImageVectorRecord[] = [];
  for (const [i, result] of set.images.entries()) {
    const file = images[i].file;
    const record: ImageVectorRecord = { transparent: result.separated };
    if (result.warning) record.warning = result.warning;
    if (wantPng) {
      if (result.separated) await writeFile(file, encodePng(result.png));
      record.png = file;
    }
    if (result.svg !== undefined && result.stats && result.palette !== undefined) {
      const svgFile = file.replace(/\.png$/, '.svg');
      await writeFile(svgFile, result.svg);
      const palette = set.palettes[result.palette];
      Object.assign(record, {
        svg: svgFile,
        palette: result.palette,
        colours: result.stats.colours.map((j) => palette[j].hex),
        paths: result.stats.paths,
        subpaths: result.stats.subpaths,
        bytes: result.stats.bytes,
        fidelity: result.stats.fidelity,
        errorQuantised: round2(result.stats.errorQuantised),
        errorOriginal: round2(result.stats.errorOriginal),
      });
    }
    records.push(record);
  }
  const palettes = set.palettes.map((palette, k) => ({
    colours: palette.map((c, j) => ({
      hex: c.hex,
      images: set.images.flatMap((im, i) => (im.palette === k && im.stats?.colours.includes(j) ? [images[i].index] : [])),
    })),
  }));
  return { format: flags.format, background: flags.background, palette: flags.palette, palettes, images: records, ms: Math.round(performance.now() - started) };
}

import { writeFile } from 'node:fs/promises';
import type { BackgroundMode, OutputFormat, PaletteScope } from '@styleset/protocol';
import type { EngineVectorSet } from '../engine/engine';

export interface VectorFlags {
  format: OutputFormat;
  background: BackgroundMode;
  palette: PaletteScope;
}

export interface WrittenImage {
  index: number;
  /** The PNG path (also when only SVGs are asked for: then it is where the PNG would be). */
  file: string;
  png: Uint8Array;
  /** As the engine reported the PNG: its background removed, or why not. */
  transparent?: boolean;
  warning?: string;
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
  /** Time the SVGs took once the set was decoded (absent without SVGs: removing backgrounds is part of decoding). */
  ms?: number;
}

const round2 = (v: number): number => Math.round(v * 100) / 100;

/**
 * Writes the engine's SVGs next to where the PNGs go, and, when only SVGs were asked for, the PNG
 * of each image that got none (so that no image of the set is lost); says what was written, for
 * set.json. `images` are in index order, their PNGs already written unless only SVGs were asked for.
 */
export async function writeVectorOutputs(images: readonly WrittenImage[], set: EngineVectorSet | undefined, flags: VectorFlags): Promise<SetVectorRecord> {
  const wantPng = flags.format !== 'svg';
  const svgs = new Map((set?.images ?? []).map((svg) => [svg.index, svg]));
  const records: ImageVectorRecord[] = [];
  for (const image of images) {
    const svg = svgs.get(image.index);
    const record: ImageVectorRecord = { transparent: image.transparent === true };
    const warning = svg?.warning ?? image.warning;
    if (warning !== undefined) record.warning = warning;
    if (wantPng || svg?.svg === undefined) {
      if (!wantPng) await writeFile(image.file, image.png);
      record.png = image.file;
    }
    if (svg?.svg !== undefined && svg.stats !== undefined) {
      const svgFile = image.file.replace(/\.png$/, '.svg');
      await writeFile(svgFile, svg.svg);
      const { stats } = svg;
      Object.assign(record, {
        svg: svgFile,
        palette: svg.palette,
        colours: stats.colours,
        paths: stats.paths,
        subpaths: stats.subpaths,
        bytes: stats.bytes,
        fidelity: stats.fidelity,
        errorQuantised: round2(stats.errorQuantised),
        errorOriginal: round2(stats.errorOriginal),
      });
    }
    records.push(record);
  }
  const palettes = (set?.summary.palettes ?? []).map((palette, k) => ({
    colours: palette.colors.map((hex) => ({
      hex,
      images: (set?.images ?? []).filter((im) => im.palette === k && im.stats?.colours.includes(hex)).map((im) => im.index),
    })),
  }));
  return { format: flags.format, background: flags.background, palette: flags.palette, palettes, images: records, ...(set && { ms: set.ms }) };
}

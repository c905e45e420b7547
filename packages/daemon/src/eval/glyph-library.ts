import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { InputError } from '../errors';
import { decodeImage } from '../image/decode';

/** Which icon set a reference glyph comes from: lucide is held out of training, the others are its sources. */
export const GLYPH_SETS = ['lucide', 'tabler', 'phosphor'] as const;
export type GlyphSet = (typeof GLYPH_SETS)[number];

export interface ReferenceGlyph {
  /** The vocabulary name it draws ("home"). */
  name: string;
  set: GlyphSet;
  /** Package and file it was rasterised from, e.g. `lucide:house`, `tabler:home:filled`. */
  glyph: string;
  /** Coverage in [0, 1], `size` x `size`, row-major; the glyph's viewBox fills the frame. */
  coverage: Float32Array;
}

export interface GlyphLibrary {
  size: number;
  /** The model's vocabulary, in training order. */
  names: string[];
  /** Every name's caption words, the name itself first. */
  words: Record<string, string[]>;
  glyphs: ReferenceGlyph[];
  /** Package versions the glyphs were rasterised from. */
  sources: Record<string, string>;
}

const indexSchema = z.object({
  size: z.int().positive(),
  sources: z.record(z.string(), z.string()),
  names: z.array(z.string()).min(1),
  prompts: z.record(z.string(), z.array(z.string()).min(1)),
  glyphs: z.array(z.object({ name: z.string(), set: z.enum(GLYPH_SETS), glyph: z.string() })),
});

/**
 * The evaluation's glyphs ship in packages/daemon/eval-data (written by training/make_data.py).
 * The CLI bundle runs from dist/, the sources from src/eval/: look relative to either.
 */
export function evalDataDir(): string {
  for (const rel of ['../eval-data', '../../eval-data']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(join(dir, 'glyphs.json'))) return dir;
  }
  return fileURLToPath(new URL('../../eval-data', import.meta.url));
}

/** Reads glyphs.json and the sprite glyphs.png it indexes (one `size`-pixel row band per glyph). */
export async function loadGlyphLibrary(dir: string = evalDataDir()): Promise<GlyphLibrary> {
  const indexPath = join(dir, 'glyphs.json');
  const spritePath = join(dir, 'glyphs.png');
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(indexPath, 'utf8'));
  } catch (err) {
    throw new InputError(`${indexPath}: cannot read the evaluation's glyph index (${(err as Error).message})`);
  }
  const parsed = indexSchema.safeParse(raw);
  if (!parsed.success) throw new InputError(`${indexPath}: not a glyph index (${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message})`);
  const index = parsed.data;
  const sprite = decodeImage(await readFile(spritePath), spritePath);
  const { size } = index;
  if (sprite.width !== size || sprite.height !== size * index.glyphs.length) {
    throw new InputError(`${spritePath}: expected ${size}x${size * index.glyphs.length} pixels for ${index.glyphs.length} glyphs, got ${sprite.width}x${sprite.height}`);
  }
  const glyphs = index.glyphs.map((g, i): ReferenceGlyph => {
    const coverage = new Float32Array(size * size);
    const offset = i * size * size;
    for (let p = 0; p < size * size; p++) coverage[p] = sprite.data[(offset + p) * sprite.channels] / 255;
    return { ...g, coverage };
  });
  for (const g of glyphs) {
    if (!index.names.includes(g.name)) throw new InputError(`${indexPath}: glyph ${g.glyph} names "${g.name}", which is not in the vocabulary`);
  }
  return { size, names: index.names, words: index.prompts, glyphs, sources: index.sources };
}

/**
 * The library cut to the vocabulary's first `count` names and their glyphs: the vocabulary of a
 * model trained on those names only (a curriculum's first stage, training/README.md), so that
 * sets, retrieval and calibration all stay within what it was taught.
 */
export function firstNames(library: GlyphLibrary, count: number): GlyphLibrary {
  if (!Number.isInteger(count) || count < 2 || count > library.names.length) {
    throw new InputError(`--names: expected a whole number from 2 to ${library.names.length} (the vocabulary's size), got ${count}`);
  }
  const names = library.names.slice(0, count);
  const kept = new Set(names);
  return {
    ...library,
    names,
    words: Object.fromEntries(names.map((n) => [n, library.words[n]])),
    glyphs: library.glyphs.filter((g) => kept.has(g.name)),
  };
}

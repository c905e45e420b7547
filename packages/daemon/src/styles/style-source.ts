import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { LIMITS, styleNameSchema, type ResolvedOptions, type StyleKind, type StyleOptions } from '@styleset/protocol';
import * as z from 'zod';
import { InputError } from '../errors';
import { decodeImage } from '../image/decode';
import { encodePng } from '../image/png';
import { REFERENCE_FILE, STYLE_FORMAT, STYLE_FORMAT_VERSION, parseManifest, sha256Hex, type StyleManifest } from './style-record';

/** What a new style is made of, wherever it comes from (a set's record, a job, an image). */
export interface StyleSource {
  name: string;
  kind: StyleKind;
  /** Describes the reference: the set's first prompt, or what the image shows. */
  prompt: string;
  /** `set`: the set's seed, the reference's. */
  seed?: number;
  /** The options the set ran with (its batch size the one it ran with), or those to use the image with. */
  options: Omit<ResolvedOptions, 'batchSize'> & { batchSize?: number };
  /** The model, and the SHA-256 of its U-Net now. */
  model: { id: string; unetSha256: string };
  /** `set`: the number of images in it, where a continuation starts. */
  nextIndex: number;
  /** The set's first image, or the reference image (PNG or JPEG). */
  image: Uint8Array;
}

/**
 * A style's manifest and its reference as an 8-bit RGB PNG: what inversion reads of the image
 * (a JPEG's pixels, a PNG's composited on white) and nothing else, so the kept file inverts
 * exactly as the original did.
 */
export function newStyle(source: StyleSource, now = new Date()): { manifest: StyleManifest; png: Uint8Array } {
  const name = styleNameSchema.safeParse(source.name);
  if (!name.success) throw new InputError(`style name ${JSON.stringify(source.name)}: ${name.error.issues[0].message}`);
  if (!source.options.shareAttention) {
    throw new InputError('a style needs shared attention: this set was generated without it (--no-share), so its first image styles nothing');
  }
  const image = decodeImage(source.image, 'the reference image', { maxPixels: LIMITS.size.max * LIMITS.size.max });
  const png = new Uint8Array(encodePng(image));
  const manifest = parseManifest(
    {
      format: STYLE_FORMAT,
      version: STYLE_FORMAT_VERSION,
      name: source.name,
      kind: source.kind,
      prompt: source.prompt,
      ...(source.kind === 'set' && { seed: source.seed }),
      model: source.model,
      options: styleOptions(source.options, source.kind),
      nextIndex: source.nextIndex,
      createdAt: now.toISOString(),
      reference: { file: REFERENCE_FILE, width: image.width, height: image.height, bytes: png.length, sha256: sha256Hex(png) },
      trajectories: [],
    },
    `style ${source.name}`,
  );
  return { manifest, png };
}

/** What shapes the style, of the options a set ran with: not its outputs, previews or model. */
export function styleOptions(o: StyleSource['options'], kind: StyleKind): StyleOptions {
  return {
    negativePrompt: o.negativePrompt,
    steps: o.steps,
    guidance: o.guidance,
    width: o.width,
    height: o.height,
    scheduler: o.scheduler,
    ...(o.batchSize !== undefined && { batchSize: o.batchSize }),
    shareAttention: o.shareAttention,
    adainQueries: o.adainQueries,
    adainKeys: o.adainKeys,
    adainValues: o.adainValues,
    sharedScoreScale: o.sharedScoreScale,
    sharedScoreShift: o.sharedScoreShift,
    onlySelfLevel: o.onlySelfLevel,
    fullAttentionShare: o.fullAttentionShare,
    shareGroupNorm: o.shareGroupNorm,
    shareLayerNorm: o.shareLayerNorm,
    ...(kind === 'image' && { inversionGuidance: o.inversionGuidance, inversionOffset: o.inversionOffset }),
  };
}

/** The parts of `styleset generate`'s set.json a style is made from. */
const setRecordSchema = z.object({
  model: z.object({ id: z.string(), path: z.string().optional() }),
  kind: z.enum(['set', 'reference']),
  style: z.string().optional(),
  referencePrompt: z.string().optional(),
  referenceImage: z.string().optional(),
  options: z.looseObject({ seed: z.int(), batchSize: z.int().optional(), shareAttention: z.boolean() }),
  images: z.array(z.object({ index: z.int(), prompt: z.string(), seed: z.int(), file: z.string() })).min(1),
});

/** A set as `generate` recorded it: where to find its model and reference. */
export interface SetFile {
  /** The model's folder when it ran, to hash its U-Net. */
  modelDir?: string;
  source: Omit<StyleSource, 'name' | 'model'> & { model: { id: string } };
}

/**
 * Reads set.json: a set's reference is its first image (prompt, seed, PNG), a reference-image
 * set's the image it was made from. Relative paths in it are relative to its folder.
 */
export async function readSetFile(path: string): Promise<SetFile> {
  const file = resolve(path);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new InputError(`${path}: cannot read it as a set's record (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const parsed = setRecordSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(`${path}: not a set.json written by \`styleset generate\` (${issue.path.join('.') || 'the record'}: ${issue.message})`);
  }
  const set = parsed.data;
  if (set.style !== undefined) {
    throw new InputError(`${path}: this set was made with style ${set.style}, whose reference is not in it; use ${set.style}, or save from the set it came from`);
  }
  const options = set.options as unknown as SetFile['source']['options'];
  const images = [...set.images].sort((a, b) => a.index - b.index);
  const read = async (image: string, what: string) => {
    const at = resolve(dirname(file), image);
    return readFile(at).catch((error: NodeJS.ErrnoException) => {
      throw new InputError(`${path}: cannot read ${what} ${at} (${error.code ?? error.message})`);
    });
  };
  if (set.kind === 'set') {
    const first = images[0];
    if (first.index !== 0 || !/\.png$/i.test(first.file)) {
      throw new InputError(`${path}: the set's first image has no PNG (${first.file}); a style keeps its reference as a PNG (generate with --format png or both)`);
    }
    return {
      modelDir: set.model.path,
      source: { kind: 'set', prompt: first.prompt, seed: set.options.seed, options, model: set.model, nextIndex: images.length, image: await read(first.file, 'its first image') },
    };
  }
  if (set.referencePrompt === undefined || set.referenceImage === undefined) {
    throw new InputError(`${path}: a reference-image set's record must name its image and prompt (referenceImage, referencePrompt); generate it again with this version`);
  }
  return {
    modelDir: set.model.path,
    source: { kind: 'image', prompt: set.referencePrompt, options, model: set.model, nextIndex: images.length, image: await read(set.referenceImage, 'its reference image') },
  };
}

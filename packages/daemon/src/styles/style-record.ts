import { createHash } from 'node:crypto';
import {
  LIMITS,
  STYLE_LIMITS,
  styleKindSchema,
  styleNameSchema,
  styleOptionsSchema,
  unetSha256Schema,
  type StyleInfo,
} from '@styleset/protocol';
import * as z from 'zod';
import { StylesetError } from '../errors';

/** The style format: a folder in the data folder, and the same files in an exported archive. */
export const STYLE_FORMAT = 'styleset-style';
export const STYLE_FORMAT_VERSION = 1;
export const MANIFEST_FILE = 'style.json';
export const REFERENCE_FILE = 'reference.png';
export const TRAJECTORY_FOLDER = 'trajectories';

const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256, 64 lower-case hex digits');
const sizeSchema = z.int().min(8).max(2048);

/** What a trajectory was inverted with: a style keeps one per model, step count and size. */
export const trajectoryParamsSchema = z.strictObject({
  unetSha256: unetSha256Schema,
  steps: z.int().min(1).max(200),
  width: sizeSchema,
  height: sizeSchema,
  inversionGuidance: z.number().min(0).max(50),
});

export type TrajectoryParams = z.infer<typeof trajectoryParamsSchema>;

/** A kept trajectory: a float32 .npy of shape [steps + 1, C, h, w], its bytes and their hash. */
const trajectoryEntrySchema = trajectoryParamsSchema.extend({
  file: z.string(),
  bytes: z.int().min(1),
  sha256: sha256Schema,
});

export type TrajectoryEntry = z.infer<typeof trajectoryEntrySchema>;

/**
 * style.json. Everything a style is, and the list of the files it has, each with its size and
 * hash, so that a folder or an archive with a file missing, added or changed is refused.
 */
export const styleManifestSchema = z
  .strictObject({
    format: z.literal(STYLE_FORMAT),
    version: z.literal(STYLE_FORMAT_VERSION),
    name: styleNameSchema,
    kind: styleKindSchema,
    prompt: z.string().max(1000),
    seed: z.int().min(0).max(0xffff_ffff).optional(),
    model: z.strictObject({ id: z.string().min(1).max(256), unetSha256: unetSha256Schema }),
    options: styleOptionsSchema,
    nextIndex: z.int().min(0).max(STYLE_LIMITS.maxIndex),
    createdAt: z.iso.datetime(),
    /** The reference image as an 8-bit RGB PNG: the set's first image, or the image given (a JPEG converted without loss of what inversion reads). */
    reference: z.strictObject({
      file: z.literal(REFERENCE_FILE),
      width: z.int().min(1).max(LIMITS.size.max),
      height: z.int().min(1).max(LIMITS.size.max),
      bytes: z.int().min(1),
      sha256: sha256Schema,
    }),
    trajectories: z.array(trajectoryEntrySchema).max(64),
  })
  .check((ctx) => {
    const { kind, seed, options, nextIndex } = ctx.value;
    const issue = (path: (string | number)[], message: string) => ctx.issues.push({ code: 'custom', path, input: ctx.value, message });
    if (kind === 'set' && seed === undefined) issue(['seed'], 'is required for a style from a set');
    if (kind === 'image' && seed !== undefined) issue(['seed'], 'must be left out for a style from an image');
    if (kind === 'set' && nextIndex < 1) issue(['nextIndex'], 'must be at least 1 for a style from a set (image 0 is its reference)');
    if (kind === 'image' && (options.inversionGuidance === undefined || options.inversionOffset === undefined)) {
      issue(['options'], 'needs inversionGuidance and inversionOffset for a style from an image');
    }
    ctx.value.trajectories.forEach((entry, i) => {
      if (entry.file !== trajectoryFile(entry)) issue(['trajectories', i, 'file'], `must be ${trajectoryFile(entry)}, the name its parameters give`);
    });
  });

export type StyleManifest = z.infer<typeof styleManifestSchema>;

/** A style's manifest, or a StylesetError naming the field that is wrong and where it came from. */
export function parseManifest(json: unknown, source: string): StyleManifest {
  const parsed = styleManifestSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue.path.join('.');
  if (field === 'version' || (issue.path.length === 0 && isObject(json) && json.version !== STYLE_FORMAT_VERSION)) {
    throw new StylesetError('invalid_input', `${source}: style format version ${JSON.stringify(isObject(json) ? json.version : undefined)} is not one this Styleset reads (it reads version ${STYLE_FORMAT_VERSION}); a newer Styleset wrote it`);
  }
  throw new StylesetError('invalid_input', `${source}: ${field === '' ? '' : `${field} `}${issue.message}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A trajectory's file name: `trajectories/` and a hash of what it was inverted with, so each set of parameters has one. */
export function trajectoryFile(params: TrajectoryParams): string {
  const { unetSha256, steps, width, height, inversionGuidance } = params;
  const key = createHash('sha256').update(JSON.stringify([unetSha256, steps, width, height, inversionGuidance])).digest('hex').slice(0, 32);
  return `${TRAJECTORY_FOLDER}/${key}.npy`;
}

/** The protocol's description of a style. */
export function styleInfo(manifest: StyleManifest): StyleInfo {
  const { name, kind, prompt, seed, model, options, nextIndex, createdAt } = manifest;
  return { name, kind, prompt, ...(seed !== undefined && { seed }), model, options, nextIndex, createdAt };
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

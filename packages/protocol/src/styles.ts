import * as z from 'zod';
import { guidanceSchema, modelIdSchema, promptSchema, seedSchema } from './fields';
import { LIMITS } from './limits';
import { samplingShape, styleAlignedShape } from './options';

/**
 * Saved styles: a reference (a prompt and seed from a generated set, or an image and its prompt),
 * the options it was made with and the model it belongs to, kept by the daemon under a name.
 */
export const STYLE_KINDS = [
  /** The first image of a generated set: its prompt and seed, generated again in every job (slot 0 of each batch). */
  'set',
  /** An image and its prompt, DDIM-inverted on the style's model. */
  'image',
] as const;

export type StyleKind = (typeof STYLE_KINDS)[number];

/**
 * Apart from `LIMITS` for the reason `VECTOR_LIMITS` gives: `welcome` announces `LIMITS` and is
 * strict, so a new key there would make clients of this protocol version refuse every greeting.
 */
export const STYLE_LIMITS = {
  /** A set index (the seed of image i is the set's seed + i). */
  maxIndex: 65_535,
  /** Styles in one `styles` message: every style a daemon keeps. */
  maxStyles: 1000,
} as const;

/** A style's name is a folder name on the daemon's disk and a file name when exported: no case, no separators. */
export const styleNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be 1 to 64 lower-case letters, digits, - or _, starting with a letter or digit');

export const styleKindSchema = z.enum(STYLE_KINDS);

export const setIndexSchema = z.int().min(0).max(STYLE_LIMITS.maxIndex);

/** SHA-256 of a model's U-Net files (see the README's Styles): which weights a style belongs to. */
export const unetSha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256, 64 lower-case hex digits');

/**
 * The options a style was made with, every one filled in. A job with the style takes these, then
 * its own. `batchSize` is the number of images per U-Net batch the set ran with (its chunk
 * size), which an extension of the set keeps so that each image runs in a batch of the same shape.
 */
export const styleOptionsSchema = z.strictObject({
  ...samplingShape,
  batchSize: z.int().min(LIMITS.batchSize.min).max(LIMITS.batchSize.max).optional(),
  ...styleAlignedShape,
  /** `image` styles: how the image was inverted and where its reference starts. */
  inversionGuidance: guidanceSchema.optional(),
  inversionOffset: z.int().min(0).optional(),
});

export type StyleOptions = z.infer<typeof styleOptionsSchema>;

/** A saved style as the daemon describes it (`styles`, `style`). */
export const styleInfoSchema = z.strictObject({
  name: styleNameSchema,
  kind: styleKindSchema,
  /** Describes the reference. */
  prompt: promptSchema,
  /** `set` styles: the reference's seed, the set's seed (image i of the set had seed + i). */
  seed: seedSchema.optional(),
  /** The model it belongs to: jobs with the style run on it, and only while its U-Net is the same. */
  model: z.strictObject({ id: modelIdSchema, unetSha256: unetSha256Schema }),
  options: styleOptionsSchema,
  /** Where a job's first prompt goes in the set by default (`firstIndex`): after the set it came from. */
  nextIndex: setIndexSchema,
  createdAt: z.iso.datetime(),
});

export type StyleInfo = z.infer<typeof styleInfoSchema>;

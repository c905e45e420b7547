import * as z from 'zod';
import { REFERENCE_IMAGE_DEFAULTS } from './defaults';
import {
  dimensionSchema,
  guidanceSchema,
  modelIdSchema,
  promptSchema,
  seedSchema,
  stepsSchema,
} from './fields';
import { schedulerSchema } from './jobs';
import { LIMITS } from './limits';
import { backgroundModeSchema, outputFormatSchema, paletteScopeSchema } from './vector';

/** The reference implementation's StyleAlignedArgs, camelCased (see the method doc's table). */
export const styleAlignedShape = {
  shareAttention: z.boolean(),
  adainQueries: z.boolean(),
  adainKeys: z.boolean(),
  adainValues: z.boolean(),
  sharedScoreScale: z.number().min(LIMITS.sharedScoreScale.min).max(LIMITS.sharedScoreScale.max),
  sharedScoreShift: z.number().min(LIMITS.sharedScoreShift.min).max(LIMITS.sharedScoreShift.max),
  onlySelfLevel: z.number().min(0).max(1),
  fullAttentionShare: z.boolean(),
  shareGroupNorm: z.boolean(),
  shareLayerNorm: z.boolean(),
};

/** How an image is denoised and at what size: what a job sets and a saved style keeps. */
export const samplingShape = {
  negativePrompt: promptSchema,
  steps: stepsSchema,
  guidance: guidanceSchema,
  /** Absent means the model's native size. */
  width: dimensionSchema,
  height: dimensionSchema,
  /** Absent means the model's own (see `ModelInfo.defaults`), as for steps and guidance. */
  scheduler: schedulerSchema,
};

const generationShape = {
  /** A model id from `models`; absent means the daemon's default model. */
  model: modelIdSchema,
  ...samplingShape,
  /** Absent means random; every `result` reports the seed that reproduces it. */
  seed: seedSchema,
  /** Chunk size: larger sets run in chunks that all carry the reference in slot 0. Absent means
   * the daemon's choice for the model's size. */
  batchSize: z.int().min(LIMITS.batchSize.min).max(LIMITS.batchSize.max),
  /** A `progress` preview of the images every this many denoising steps; absent means none. */
  previewEvery: z.int().min(1).max(LIMITS.steps.max),
  /** PNGs, SVGs traced from them, or both (one `result` per image and format). */
  format: outputFormatSchema,
  /** `transparent`: PNGs with alpha and SVGs without a background shape, where the background can be found. */
  background: backgroundModeSchema,
  /** Whether the SVGs of the set share one palette. */
  palette: paletteScopeSchema,
  ...styleAlignedShape,
};

/** Every option is optional: absent means the default (see `resolveOptions`). */
export const setOptionsSchema = z.strictObject(generationShape).partial();

const inversionShape = {
  inversionGuidance: guidanceSchema,
  /** Trajectory entry the reference starts from (0 is the noisy end, `steps` the image). */
  inversionOffset: z.int().min(0),
};

export const referenceOptionsSchema = z
  .strictObject({ ...generationShape, ...inversionShape })
  .partial()
  .check(checkReferenceOptions);

/**
 * What a saved style takes from a reference image (`save_style` with an image): the options that
 * shape the style. Output options (format, background, palette, previews) and the seed belong to
 * each job.
 */
export const imageStyleOptionsSchema = z
  .strictObject({
    model: modelIdSchema,
    ...samplingShape,
    batchSize: generationShape.batchSize,
    ...styleAlignedShape,
    ...inversionShape,
  })
  .partial()
  .check(checkReferenceOptions);

/** The reference-image path's rules, for the options a client sent. */
function checkReferenceOptions(ctx: z.core.ParsePayload<{ scheduler?: string; steps?: number; inversionOffset?: number }>): void {
  const { scheduler } = ctx.value;
  // The reference latent is overwritten with the inverted trajectory at each DDIM timestep.
  if (scheduler !== undefined && scheduler !== 'ddim') {
    ctx.issues.push({
      code: 'custom',
      path: ['scheduler'],
      input: scheduler,
      message: `must be 'ddim' for a reference image, whose inverted trajectory is a DDIM one`,
    });
  }
  const steps = ctx.value.steps ?? REFERENCE_IMAGE_DEFAULTS.steps;
  const offset = ctx.value.inversionOffset ?? REFERENCE_IMAGE_DEFAULTS.inversionOffset;
  if (offset < steps) return;
  // Blame the field the client actually sent, so the fix is obvious.
  const offsetGiven = ctx.value.inversionOffset !== undefined;
  ctx.issues.push({
    code: 'custom',
    path: [offsetGiven ? 'inversionOffset' : 'steps'],
    input: offsetGiven ? offset : steps,
    message: offsetGiven
      ? `must be less than steps (${steps})`
      : `must be more than inversionOffset (${offset} by default)`,
  });
}

export const inversionOptionsSchema = z
  .strictObject({
    model: modelIdSchema,
    steps: stepsSchema,
    width: dimensionSchema,
    height: dimensionSchema,
    inversionGuidance: guidanceSchema,
  })
  .partial();

export type SetOptions = z.infer<typeof setOptionsSchema>;
export type ReferenceOptions = z.infer<typeof referenceOptionsSchema>;
export type InversionOptions = z.infer<typeof inversionOptionsSchema>;
export type ImageStyleOptions = z.infer<typeof imageStyleOptionsSchema>;

/** Every option any job kind takes. */
export type JobOptions = ReferenceOptions;

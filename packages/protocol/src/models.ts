import * as z from 'zod';
import { dimensionSchema, guidanceSchema, modelIdSchema, stepsSchema } from './fields';
import { schedulerSchema } from './jobs';
import { styleAlignedShape } from './options';

const { shareAttention: _always, ...recommendable } = styleAlignedShape;

/**
 * StyleAligned settings a model's folder recommends (`styleset.json`, see the README): defaults of
 * its sets over the reference implementation's. Whether to share at all stays the job's choice.
 */
export const recommendedStyleAlignedSchema = z.strictObject(recommendable).partial();
export type RecommendedStyleAligned = z.infer<typeof recommendedStyleAlignedSchema>;

/**
 * Model families: each needs its own text conditioning and U-Net inputs. Distilled variants
 * (turbo, LCM, SSD-1B) share their base family's layout. `default` is the small embedded model.
 */
export const MODEL_KINDS = ['default', 'sd1', 'sd2', 'sdxl'] as const;

export type ModelKind = (typeof MODEL_KINDS)[number];

export const modelInfoSchema = z.strictObject({
  id: modelIdSchema,
  /** For people: shown in client pickers. */
  name: z.string().min(1).max(256),
  kind: z.enum(MODEL_KINDS),
  /** The resolution it was trained at: the default size of its images. */
  width: dimensionSchema,
  height: dimensionSchema,
  /**
   * What the model was trained or distilled for (turbo and LCM models want few steps and little
   * guidance): a job's defaults for these three, except on the reference-image path.
   */
  defaults: z.strictObject({
    scheduler: schedulerSchema,
    steps: stepsSchema,
    guidance: guidanceSchema,
    /** What its folder recommends for StyleAligned; on the reference-image path that path's own defaults come first. */
    styleAligned: recommendedStyleAlignedSchema.optional(),
    /**
     * The reference-image path's guidance, where its folder recommends one (a small model that a
     * guidance of 10 over-saturates); else that path's own.
     */
    referenceGuidance: guidanceSchema.optional(),
  }),
  /** Whether its sessions are in memory, i.e. a job on it skips the `loading` phase. */
  loaded: z.boolean(),
  /** Its folder on the daemon's machine, when it was loaded from one. */
  path: z.string().min(1).max(4096).optional(),
});

export type ModelInfo = z.infer<typeof modelInfoSchema>;

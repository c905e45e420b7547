import type { JobKind } from './jobs';
import type { ModelInfo } from './models';
import type { InversionOptions, JobOptions, ReferenceOptions, SetOptions } from './options';

/**
 * Text-to-image defaults: the reference implementation's text-to-image example (AdaIN on queries
 * and keys, every self-attention layer, no shared norms, scale 1, shift 0), unless the model's
 * folder recommends others (`ModelInfo.defaults.styleAligned`). Steps, guidance and scheduler come
 * from the model (`ModelInfo.defaults`), since distilled models need their own. Shared so that a
 * client shows the values the daemon will use.
 */
export const STYLE_ALIGNED_DEFAULTS = {
  shareAttention: true,
  adainQueries: true,
  adainKeys: true,
  adainValues: false,
  sharedScoreScale: 1,
  sharedScoreShift: 0,
  onlySelfLevel: 0,
  fullAttentionShare: false,
  shareGroupNorm: false,
  shareLayerNorm: false,
  negativePrompt: '',
} as const satisfies JobOptions;

/**
 * The image-reference example (style_aligned_transfer_sdxl), for reference and inversion jobs: it
 * overrides the model's sampler too, since the inverted trajectory is a DDIM one.
 */
export const REFERENCE_IMAGE_DEFAULTS = {
  scheduler: 'ddim',
  steps: 50,
  guidance: 10,
  sharedScoreShift: Math.LN2,
  shareGroupNorm: true,
  shareLayerNorm: true,
  inversionGuidance: 2,
  inversionOffset: 5,
} as const satisfies JobOptions;

/**
 * The sampler of the reference-image path on a model: the example's DDIM schedule, at the guidance
 * the model's folder recommends for that path if it names one. Jobs and a style rebound to
 * another model (which inverts its image there) both sample with it.
 */
export function referenceSampling(referenceGuidance: number | undefined): Pick<Required<JobOptions>, 'scheduler' | 'steps' | 'guidance'> {
  const { scheduler, steps, guidance } = REFERENCE_IMAGE_DEFAULTS;
  return { scheduler, steps, guidance: referenceGuidance ?? guidance };
}

/** Vector output (see `VectorSummary`): off unless asked for, so a job that does not ask gets what it always got. */
export const VECTOR_DEFAULTS = {
  format: 'png',
  background: 'keep',
  palette: 'set',
} as const satisfies JobOptions;

/** Left to the daemon when absent (its default model, a random seed, a batch size that fits), or off (previews). */
type DaemonChosen = 'model' | 'seed' | 'batchSize' | 'previewEvery';

/**
 * The options a job runs with. The inversion fields are filled for every kind, only jobs that
 * invert read them; the vector ones too (an inversion makes no images).
 */
export type ResolvedOptions = Required<Omit<JobOptions, DaemonChosen>> & Pick<JobOptions, DaemonChosen>;

/**
 * Fills what a job's options leave out: the method's defaults (and PNG output), the model's own,
 * then the image-reference example's for jobs that invert an image (with the guidance the model's
 * folder recommends for that path, if any), and the model's native size.
 */
export function resolveOptions(
  jobKind: JobKind,
  model: Pick<ModelInfo, 'kind' | 'width' | 'height' | 'defaults'>,
  options: SetOptions | ReferenceOptions | InversionOptions = {},
): ResolvedOptions {
  // A TypeScript caller can pass `{ steps: undefined }`; that must not erase the default.
  const given = Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  ) as JobOptions;
  const { inversionGuidance, inversionOffset } = REFERENCE_IMAGE_DEFAULTS;
  const { styleAligned, referenceGuidance, ...sampling } = model.defaults;
  return {
    ...STYLE_ALIGNED_DEFAULTS,
    ...VECTOR_DEFAULTS,
    ...sampling,
    ...styleAligned,
    inversionGuidance,
    inversionOffset,
    ...(jobKind === 'set' ? {} : { ...REFERENCE_IMAGE_DEFAULTS, ...referenceSampling(referenceGuidance) }),
    width: model.width,
    height: model.height,
    ...given,
  };
}

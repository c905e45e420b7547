import { resolveOptions, type ModelInfo, type SetOptions } from '@styleset/protocol';
import type { EngineJob, EngineOutcome } from '../engine/engine';
import { StylesetError } from '../errors';
import type { TrajectoryParams } from './style-record';
import type { StoredStyle, StyleStore } from './style-store';

/** A job in a saved style, as a client or the CLI asks for it. */
export interface StyleRequest {
  prompts: string[];
  /** The set index of the first prompt; default the style's `nextIndex`. */
  firstIndex?: number;
  /** The job's own options: they change the style's, except its model, which must have its U-Net. */
  options: SetOptions;
  /** The seed when neither the request nor the style has one (an image style): the caller's random pick. */
  randomSeed: number;
}

/** A field-named refusal, as the protocol reports it (`field`). */
export class StyleRequestError extends StylesetError {
  constructor(
    code: string,
    message: string,
    readonly field: string,
  ) {
    super(code, message);
    this.name = 'StyleRequestError';
  }
}

/**
 * The engine job for prompts in a style, on `model` (which the caller found by the style's model
 * id or the request's, and whose U-Net hash it computed). The style's options apply, then the
 * request's. Left alone, `batchSize` is the style's set's and every image runs where it ran, or
 * would have run, in that set (planBatches): image i of the style's set comes out exactly as it
 * did there. An image style brings its kept trajectory for this model, steps and size, or asks
 * for one back to keep (`afterRun`).
 */
export async function styleJob(
  store: StyleStore,
  style: StoredStyle,
  request: StyleRequest,
  model: ModelInfo,
  unetSha256: string,
): Promise<{ job: EngineJob; afterRun(outcome: EngineOutcome): Promise<void> }> {
  const { manifest } = style;
  if (unetSha256 !== manifest.model.unetSha256) {
    throw new StyleRequestError(
      'model_mismatch',
      `style ${manifest.name} was made on model ${manifest.model.id} with U-Net ${manifest.model.unetSha256.slice(0, 12)}…; model ${model.id} here has U-Net ${unetSha256.slice(0, 12)}… (other weights), so the style would not look the same: use the model it was made on, or import it again with --reinvert`,
      request.options.model !== undefined ? 'options.model' : 'style',
    );
  }
  const firstIndex = request.firstIndex ?? manifest.nextIndex;
  if (manifest.kind === 'set' && firstIndex < 1) {
    throw new StyleRequestError('invalid_input', `firstIndex must be at least 1 for style ${manifest.name}: image 0 of its set is its reference`, 'firstIndex');
  }
  const { model: _, seed, batchSize, ...own } = request.options;
  const kind = manifest.kind === 'set' ? 'set' : 'reference';
  const { batchSize: styleBatch, ...styleOptions } = manifest.options;
  const resolved = resolveOptions(kind, model, { ...styleOptions, ...own });
  const job: EngineJob = {
    kind,
    prompts: request.prompts,
    referencePrompt: manifest.prompt,
    firstIndex,
    // The set's own layout unless the request asks for another batch size.
    ...(batchSize === undefined && styleBatch !== undefined && { chunkSize: styleBatch }),
    options: { ...resolved, batchSize, model: model.id, seed: seed ?? manifest.seed ?? request.randomSeed },
  };
  if (manifest.kind === 'set') return { job, afterRun: async () => {} };

  const params: TrajectoryParams = {
    unetSha256,
    steps: resolved.steps,
    width: resolved.width,
    height: resolved.height,
    inversionGuidance: resolved.inversionGuidance,
  };
  const trajectory = await store.trajectory(style, params);
  if (trajectory !== undefined) {
    job.trajectory = trajectory;
  } else {
    job.referenceImage = await store.reference(style);
    job.returnTrajectory = true;
  }
  return {
    job,
    afterRun: async (outcome) => {
      if (outcome.trajectory !== undefined) await store.addTrajectory(manifest.name, manifest.createdAt, params, outcome.trajectory);
    },
  };
}

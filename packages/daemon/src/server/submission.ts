import { randomInt } from 'node:crypto';
import { LIMITS, resolveOptions, type JobOptions, type ModelInfo, type SubmitMessage } from '@styleset/protocol';
import type { Engine, EngineJob, EngineOutcome } from '../engine/engine';
import { modelUnetSha256, styleJob, type StyleStore } from '../styles';
import { checkReferenceImage } from './reference-image';
import { JobStore, type JobRecord } from './job-store';
import { RequestError } from './request-error';

export interface SubmissionContext {
  /** What the models are (the engine, or a team's workers' announcements). */
  engine: Pick<Engine, 'listModels' | 'defaultModelId'>;
  /** A job the submitting client may see, by id. */
  findJob(jobId: string): JobRecord | undefined;
  /** The saved styles, for a set in one; none where styles are not kept (a team's front door). */
  styles?: StyleStore;
}

/** What a submission runs: the engine's job, and for a job in a style what to keep after it (a trajectory). */
export interface PreparedJob {
  input: EngineJob;
  afterRun?(outcome: EngineOutcome): Promise<void>;
}

/** An inversion fixes these for every reference job that reuses its trajectory. */
const INVERSION_FIXED = ['model', 'steps', 'width', 'height'] as const;

/**
 * Turns a valid `submit` into what the engine runs: the model checked against the installed ones,
 * every option resolved, the seed chosen. Anything the engine could only fail on later (an unknown
 * model, an oversized reference image, an unusable inversion) is refused here, before queueing.
 */
export async function prepareJob(
  message: SubmitMessage,
  bytes: Uint8Array | undefined,
  context: SubmissionContext,
): Promise<PreparedJob> {
  if (message.kind === 'set' && message.style !== undefined) return prepareStyleJob(message, context);
  const given: JobOptions = { ...message.options };
  let trajectoryKey: string | undefined;
  if (message.kind === 'reference' && message.inversionJobId !== undefined) {
    const inversion = finishedInversion(message.inversionJobId, context);
    for (const key of INVERSION_FIXED) {
      const fixed = inversion.options[key];
      if (given[key] !== undefined && given[key] !== fixed) {
        throw new RequestError(
          'invalid_option',
          `options.${key} must be ${JSON.stringify(fixed)} (as inversion ${inversion.id} ran) or left out`,
          `options.${key}`,
        );
      }
    }
    Object.assign(given, Object.fromEntries(INVERSION_FIXED.map((key) => [key, inversion.options[key]])));
    trajectoryKey = inversion.trajectoryKey;
  }

  const model = await findModel(context.engine, given.model ?? context.engine.defaultModelId, 'options.model');
  const resolved = resolveOptions(message.kind, model, given);
  if (message.kind === 'reference' && resolved.inversionOffset >= resolved.steps) {
    throw new RequestError(
      'invalid_option',
      `options.inversionOffset must be less than steps (${resolved.steps})`,
      'options.inversionOffset',
    );
  }
  if (bytes !== undefined && message.kind !== 'set' && message.attachment !== undefined) {
    checkReferenceImage(bytes, message.attachment.mime);
  }
  return {
    input: {
      kind: message.kind,
      prompts: message.kind === 'inversion' ? [] : message.prompts,
      referencePrompt: message.kind === 'set' ? undefined : message.referencePrompt,
      referenceImage: bytes,
      trajectoryKey,
      options: { ...resolved, model: model.id, seed: resolved.seed ?? randomInt(LIMITS.seed.max + 1) },
    },
  };
}

/** The model of that id, or `model_not_found` naming the field and the models there are. */
export async function findModel(engine: Pick<Engine, 'listModels'>, id: string, field: string, why = ''): Promise<ModelInfo> {
  const models = await engine.listModels();
  const model = models.find((m) => m.id === id);
  if (model !== undefined) return model;
  const known = models.map((m) => JSON.stringify(m.id)).join(', ');
  throw new RequestError('model_not_found', `no model ${JSON.stringify(id)}${why}; this daemon has ${known}`, field);
}

/** The SHA-256 of a model's U-Net (kept by its files' stamps: see styles/unet-hash.ts). */
export async function unetOf(styles: StyleStore, model: ModelInfo): Promise<string> {
  if (model.path === undefined) throw new RequestError('model_invalid', `model ${model.id} has no folder to read its U-Net from`, 'options.model');
  return (await modelUnetSha256(styles.dataDir, model.path)).sha256;
}

/** A set in a saved style: its model (the style's, or one with the same U-Net), its reference and options. */
async function prepareStyleJob(message: Extract<SubmitMessage, { kind: 'set' }>, context: SubmissionContext): Promise<PreparedJob> {
  const name = message.style!;
  const { styles } = context;
  if (styles === undefined) {
    throw stylesNotKept('style');
  }
  const style = await styles.find(name);
  if (style === undefined) throw new RequestError('style_not_found', `no style ${JSON.stringify(name)}; list_styles lists them`, 'style');
  const given = message.options ?? {};
  const field = given.model === undefined ? 'style' : 'options.model';
  const model = await findModel(context.engine, given.model ?? style.manifest.model.id, field, given.model === undefined ? ` (style ${name} was made on it)` : '');
  const { job, afterRun } = await styleJob(
    styles,
    style,
    { prompts: message.prompts, firstIndex: message.firstIndex, options: given, randomSeed: randomInt(LIMITS.seed.max + 1) },
    model,
    await unetOf(styles, model),
  );
  return { input: job, afterRun };
}

function finishedInversion(jobId: string, context: SubmissionContext): JobRecord & { trajectoryKey: string } {
  const job = context.findJob(jobId);
  if (job === undefined) throw new RequestError('job_not_found', `no job ${jobId}`, 'inversionJobId');
  if (job.kind !== 'inversion') {
    throw new RequestError('invalid_input', `job ${jobId} is a ${job.kind} job, not an inversion`, 'inversionJobId');
  }
  if (job.state !== 'done' || job.trajectoryKey === undefined) {
    throw new RequestError('invalid_input', `inversion ${jobId} is ${job.state}; only a finished inversion can be reused`, 'inversionJobId');
  }
  return { ...job, trajectoryKey: job.trajectoryKey };
}

/** The record of a job just accepted from `owner`: queued, a new id, no results yet. */
export function queuedRecord(owner: JobRecord['owner'], message: SubmitMessage, input: EngineJob): JobRecord {
  return {
    id: JobStore.newId(),
    kind: message.kind,
    state: 'queued',
    owner,
    prompts: input.prompts,
    referencePrompt: input.referencePrompt,
    inversionJobId: message.kind === 'reference' ? message.inversionJobId : undefined,
    ...(message.kind === 'set' && message.style !== undefined && { style: message.style, firstIndex: input.firstIndex }),
    options: input.options,
    count: input.prompts.length,
    results: [],
    timings: { createdAt: Date.now() },
  };
}

/** Where no style library is kept (a team's front door), anything that needs one is refused so. */
export function stylesNotKept(field: string): RequestError {
  return new RequestError('invalid_input', 'saved styles are kept by a single daemon (styleset serve without --queue); a team front door does not share them yet', field);
}

import { randomInt } from 'node:crypto';
import { LIMITS, resolveOptions, type JobOptions, type SubmitMessage } from '@styleset/protocol';
import type { Engine, EngineJob } from '../engine/engine';
import { checkReferenceImage } from './reference-image';
import type { JobRecord } from './job-store';
import { RequestError } from './request-error';

export interface SubmissionContext {
  engine: Engine;
  /** A job the submitting client may see, by id. */
  findJob(jobId: string): JobRecord | undefined;
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
): Promise<EngineJob> {
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

  const modelId = given.model ?? context.engine.defaultModelId;
  const models = await context.engine.listModels();
  const model = models.find((m) => m.id === modelId);
  if (model === undefined) {
    const known = models.map((m) => JSON.stringify(m.id)).join(', ');
    throw new RequestError('model_not_found', `no model ${JSON.stringify(modelId)}; this daemon has ${known}`, 'options.model');
  }
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
    kind: message.kind,
    prompts: message.kind === 'inversion' ? [] : message.prompts,
    referencePrompt: message.kind === 'set' ? undefined : message.referencePrompt,
    referenceImage: bytes,
    trajectoryKey,
    options: { ...resolved, model: model.id, seed: resolved.seed ?? randomInt(LIMITS.seed.max + 1) },
  };
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

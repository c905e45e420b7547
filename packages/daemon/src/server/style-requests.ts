import { resolveOptions, type ClientMessageOf, type StyleInfo } from '@styleset/protocol';
import type { Engine } from '../engine/engine';
import { StylesetError } from '../errors';
import { newStyle, styleInfo, type StyleStore } from '../styles';
import type { JobRecord, JobStore } from './job-store';
import { checkReferenceImage } from './reference-image';
import { RequestError } from './request-error';
import { findModel, unetOf } from './submission';

export interface StyleRequestContext {
  engine: Engine;
  styles: StyleStore;
  jobs: JobStore;
  /** A job the requesting client may see, by id. */
  findJob(jobId: string): JobRecord | undefined;
}

/** Every saved style (one data folder: everyone using this daemon shares them). */
export async function listStyles(styles: StyleStore): Promise<StyleInfo[]> {
  return (await styles.list()).map((style) => styleInfo(style.manifest));
}

/**
 * Saves a style from a finished set of the client's (its first prompt, seed, options, batch size
 * and model, and the PNG of its first image), or from a reference image in the frame.
 */
export async function saveStyle(message: ClientMessageOf<'save_style'>, bytes: Uint8Array | undefined, context: StyleRequestContext): Promise<StyleInfo> {
  const { styles } = context;
  const source = message.jobId !== undefined ? await fromJob(message.jobId, context) : await fromImage(message, bytes, context);
  const { manifest, png } = newStyle({ ...source, name: message.name });
  try {
    return styleInfo((await styles.create(manifest, png, { replace: message.replace === true })).manifest);
  } catch (error) {
    if (error instanceof StylesetError && error.code === 'style_exists') throw new RequestError('style_exists', `${error.message} (replace: true)`, 'name');
    throw error;
  }
}

/** Deletes a style; the styles that are left. */
export async function deleteStyle(name: string, styles: StyleStore): Promise<StyleInfo[]> {
  if ((await styles.find(name)) === undefined) throw new RequestError('style_not_found', `no style ${JSON.stringify(name)}; list_styles lists them`, 'name');
  await styles.remove(name);
  return listStyles(styles);
}

async function fromJob(jobId: string, context: StyleRequestContext): Promise<Omit<Parameters<typeof newStyle>[0], 'name'>> {
  const job = context.findJob(jobId);
  if (job === undefined) throw new RequestError('job_not_found', `no job ${jobId}`, 'jobId');
  const refuse = (why: string): never => {
    throw new RequestError('invalid_input', `job ${jobId} ${why}`, 'jobId');
  };
  if (job.kind !== 'set') refuse(`is a ${job.kind} job; a style comes from a set (or send its reference image)`);
  if (job.style !== undefined) refuse(`was made in style ${job.style}, whose reference is not among its images; use ${job.style}`);
  if (job.state !== 'done') refuse(`is ${job.state}; only a finished set can be saved as a style`);
  if (!job.options.shareAttention) refuse('was generated without shared attention, so its first image styles nothing');
  if (!job.results.some((r) => r.index === 0 && r.format === undefined)) refuse('has no PNG of its first image (it asked for SVG alone); a style keeps its reference as a PNG');
  const model = await findModel(context.engine, job.options.model, 'jobId', ` (job ${jobId} ran on it)`);
  return {
    kind: 'set',
    prompt: job.prompts[0],
    seed: job.options.seed,
    options: job.options,
    model: { id: model.id, unetSha256: await unetOf(context.styles, model) },
    nextIndex: job.count,
    image: await context.jobs.readResult(job, 0),
  };
}

async function fromImage(message: ClientMessageOf<'save_style'>, bytes: Uint8Array | undefined, context: StyleRequestContext): Promise<Omit<Parameters<typeof newStyle>[0], 'name'>> {
  if (bytes === undefined || message.attachment === undefined) throw new RequestError('bad_message', 'attachment: send the reference image in a binary frame', 'attachment');
  checkReferenceImage(bytes, message.attachment.mime);
  const given = message.options ?? {};
  const model = await findModel(context.engine, given.model ?? context.engine.defaultModelId, 'options.model');
  const { batchSize, ...rest } = given;
  const options = { ...resolveOptions('reference', model, rest), batchSize };
  if (options.inversionOffset >= options.steps) {
    throw new RequestError('invalid_option', `options.inversionOffset must be less than steps (${options.steps})`, 'options.inversionOffset');
  }
  return {
    kind: 'image',
    prompt: message.referencePrompt!,
    options,
    model: { id: model.id, unetSha256: await unetOf(context.styles, model) },
    nextIndex: 0,
    image: bytes,
  };
}

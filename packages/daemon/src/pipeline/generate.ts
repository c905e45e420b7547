import type { Phase } from '@styleset/protocol';
import { InputError } from '../errors';
import { concatBatch, elementCount, sliceBatch, type Feed, type FloatTensor } from '../model/tensor';
import type { SamplerKind } from '../scheduler/config';
import { createSampler } from '../scheduler/create-sampler';
import { GaussianSource } from '../scheduler/noise';
import { denoise } from './denoise';
import { usesClassifierFreeGuidance } from './unet';
import type { Trajectory } from './invert';
import type { Pipeline } from './pipeline';
import { pickRows } from './text-conditioning';
import { decodeLatents } from './vae';

export interface ProgressEvent {
  phase: Phase;
  step: number;
  total: number;
  /** Denoising, when previews were asked for: the current batch's estimate of its clean latents. */
  previewLatents?: FloatTensor;
}

export interface RunControl {
  onProgress?: (event: ProgressEvent) => void;
  signal?: AbortSignal;
}

/** Shared-attention controls for one U-Net batch, given its layout. */
export type SharingFeeds = (layout: { images: number; guided: boolean }) => Record<string, Feed>;

/** The rewritten U-Net's controls for a set, and whether they share (otherwise plain generation). */
export interface SetSharing {
  active: boolean;
  feeds: SharingFeeds;
}

export interface GenerateOptions {
  /** One image each. Without `reference`, prompt 0 is the set's reference when sharing. */
  prompts: string[];
  negativePrompt: string;
  steps: number;
  guidance: number;
  seed: number;
  width: number;
  height: number;
  sampler: SamplerKind;
  /** Images per U-Net batch, the reference slot included when sharing. */
  batchSize: number;
  /** Attach the batch's estimated clean latents to the progress every this many steps. */
  previewEvery?: number;
  /** Starting latents, one row per prompt: [n, C, h, w] (before the sampler's noise scaling). */
  initLatents?: FloatTensor;
  /** Shared-attention controls; absent when the U-Net is the unmodified export. */
  sharing?: SetSharing;
  /**
   * A reference image's inverted trajectory: slot 0 of every batch is the reference, described by
   * `prompt`, started from trajectory entry `offset` and pinned to the trajectory after each step.
   * It is not one of the outputs.
   */
  reference?: { prompt: string; trajectory: Trajectory; offset: number };
}

export interface GeneratedImage {
  /** Index into `GenerateOptions.prompts`. */
  index: number;
  prompt: string;
  seed: number;
  /** [1, 3, H, W] in [-1, 1]. */
  pixels: FloatTensor;
  /** Final denoised latents [1, C, h, w], before division by the VAE scaling factor. */
  latents: FloatTensor;
}

/** Image i is seeded with seed + i, so any image can be remade alone from its reported seed. */
export function imageSeed(seed: number, index: number): number {
  return (seed + index) >>> 0;
}

/**
 * Batches of a set's slots. With a reference every batch starts with slot 0, so that sharing
 * sees the same reference in each, followed by up to batchSize - 1 further slots. The slots are
 * spread evenly over the fewest batches that hold them (sizes differ by at most one): a small last
 * batch would cost more per image, and full attention share needs equal batches.
 */
export function planChunks(count: number, batchSize: number, withReference: boolean): number[][] {
  const minimum = withReference ? 2 : 1;
  if (!Number.isInteger(batchSize) || batchSize < minimum) {
    throw new InputError(`batch size must be an integer of at least ${minimum}${withReference ? ' (the reference and one image)' : ''}, got ${batchSize}`);
  }
  const first = withReference ? 1 : 0;
  const per = withReference ? batchSize - 1 : batchSize;
  const slots = count - first;
  if (slots <= 0) return [range(0, count)];
  const batches = Math.ceil(slots / per);
  const chunks: number[][] = [];
  for (let b = 0, start = first; b < batches; b++) {
    // The first `slots % batches` batches take one slot more.
    const size = Math.floor(slots / batches) + (b < slots % batches ? 1 : 0);
    chunks.push([...(withReference ? [0] : []), ...range(start, start + size)]);
    start += size;
  }
  return chunks;
}

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a }, (_, i) => a + i);
}

/**
 * Generates a set, yielding each image as soon as it is decoded. Internally the set is a list of
 * slots: with a reference image, slot 0 is that reference and slots 1.. are the prompts;
 * otherwise slot i is prompt i. A reference slot is recomputed in every chunk (identically, since
 * sharing leaves a reference unchanged) and reported at most once.
 */
export async function* generateSet(pipeline: Pipeline, options: GenerateOptions, control: RunControl = {}): AsyncGenerator<GeneratedImage> {
  const { layout } = pipeline.model;
  const { reference } = options;
  const slots = reference ? [reference.prompt, ...options.prompts] : options.prompts;
  const firstOutput = reference ? 1 : 0;
  const latentShape = pipeline.latentShape(options.width, options.height);
  const perImage = elementCount(latentShape);
  if (options.initLatents) checkLatents(options.initLatents, [options.prompts.length, ...latentShape], 'initial latents');
  if (reference) checkReference(reference, options.steps, latentShape);

  control.onProgress?.({ phase: 'encoding', step: 0, total: 1 });
  const cond = await pipeline.conditioner.encode(slots);
  const uncond = usesClassifierFreeGuidance(pipeline.unet, options.guidance) ? await pipeline.conditioner.encode([options.negativePrompt]) : undefined;
  control.onProgress?.({ phase: 'encoding', step: 1, total: 1 });

  // A set of one is its own reference, and sharing with itself is what plain generation gives
  // (up to AdaIN's rounding): it runs plainly, in one batch of one.
  const sharing = !reference && slots.length === 1 && options.sharing?.active ? pipeline.sharing(null) : options.sharing;
  const chunks = planChunks(slots.length, options.batchSize, sharing?.active === true || reference !== undefined);
  const totalSteps = chunks.length * options.steps;
  let stepsDone = 0;
  let referenceReported = false;
  let previewLatents: FloatTensor | undefined;
  for (const chunk of chunks) {
    const sampler = createSampler(options.sampler, layout.schedulerConfig, options.steps, { source: layout.schedulerFile });
    const sources = chunk.map((slot) => new GaussianSource(imageSeed(options.seed, slot - firstOutput)));
    const start = new Float32Array(chunk.length * perImage);
    chunk.forEach((slot, row) => {
      const initial =
        reference && slot === 0
          ? reference.trajectory.data.subarray(reference.offset * perImage, (reference.offset + 1) * perImage)
          : scaleBy(options.initLatents ? options.initLatents.data.subarray((slot - firstOutput) * perImage, (slot - firstOutput + 1) * perImage) : sources[row].next(perImage), sampler.initNoiseSigma);
      start.set(initial, row * perImage);
    });
    const rows = pickRows(cond, chunk);
    // Announced before the first step, so that the step's time counts as denoising (see PhaseTimer).
    control.onProgress?.({ phase: 'denoising', step: stepsDone, total: totalSteps });
    const final = await denoise(pipeline.unet, {
      latents: { data: start, dims: [chunk.length, ...latentShape] },
      cond: rows,
      uncond: uncond ? pickRows(uncond, chunk.map(() => 0)) : rows,
      guidance: options.guidance,
      sampler,
      width: options.width,
      height: options.height,
      extraFeeds: sharing?.feeds,
      noise: () => concatBatch(sources.map((s) => ({ data: s.next(perImage), dims: [1, ...latentShape] }))).data,
      afterStep: reference ? (step, latents) => pinReference(latents, reference, step, perImage) : undefined,
      preview: options.previewEvery ? { every: options.previewEvery, emit: (estimate) => (previewLatents = estimate) } : undefined,
      onStep: () => {
        control.onProgress?.({ phase: 'denoising', step: ++stepsDone, total: totalSteps, previewLatents });
        previewLatents = undefined;
      },
      signal: control.signal,
    });

    for (const [row, slot] of chunk.entries()) {
      if (slot < firstOutput) continue;
      if (slot === 0) {
        if (referenceReported) continue;
        referenceReported = true;
      }
      const index = slot - firstOutput;
      // Before the decoder runs: "decoding image index + 1 of n".
      control.onProgress?.({ phase: 'decoding', step: index + 1, total: options.prompts.length });
      const latents = sliceBatch(final, row, row + 1);
      const pixels = await decodeLatents(pipeline.model.vaeDecoder, layout, latents);
      yield { index, prompt: options.prompts[index], seed: imageSeed(options.seed, index), pixels, latents: { data: latents.data.slice(), dims: latents.dims } };
    }
  }
}

function scaleBy(values: Float32Array, factor: number): Float32Array {
  if (factor === 1) return values;
  return values.map((v) => v * factor);
}

/** After step k the reference takes trajectory entry max(offset + 1, k + 1) (the method doc). */
function pinReference(latents: FloatTensor, reference: NonNullable<GenerateOptions['reference']>, step: number, perImage: number): void {
  const entry = Math.min(Math.max(reference.offset + 1, step + 1), reference.trajectory.dims[0] - 1);
  latents.data.set(reference.trajectory.data.subarray(entry * perImage, (entry + 1) * perImage), 0);
}

function checkReference(reference: NonNullable<GenerateOptions['reference']>, steps: number, latentShape: readonly number[]): void {
  checkLatents(reference.trajectory, [steps + 1, ...latentShape], 'the reference trajectory');
  if (!Number.isInteger(reference.offset) || reference.offset < 0 || reference.offset >= steps) {
    throw new InputError(`inversion offset must be an integer from 0 to ${steps - 1} (steps - 1), got ${reference.offset}`);
  }
}

function checkLatents(t: FloatTensor, expected: readonly number[], what: string): void {
  if (t.dims.length !== expected.length || t.dims.some((d, i) => d !== expected[i])) {
    throw new InputError(`${what} have shape [${t.dims.join(', ')}], expected [${expected.join(', ')}] (NCHW)`);
  }
}

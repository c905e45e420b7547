import { InputError } from '../errors';
import type { SamplerKind } from '../scheduler/config';
import { concatBatch, elementCount, sliceBatch, type Feed, type FloatTensor } from '../model/tensor';
import { createSampler } from '../scheduler/create-sampler';
import { GaussianSource } from '../scheduler/noise';
import { denoise, isGuided } from './denoise';
import type { Pipeline } from './pipeline';
import type { TextConditioning } from './text-conditioning';
import { decodeLatents } from './vae';

export type Phase = 'loading' | 'encoding' | 'inverting' | 'denoising' | 'decoding';

export interface ProgressEvent {
  phase: Phase;
  step: number;
  total: number;
}

export interface GenerateOptions {
  prompts: string[];
  negativePrompt: string;
  steps: number;
  guidance: number;
  seed: number;
  width: number;
  height: number;
  sampler: SamplerKind;
  /** Images per U-Net batch, the reference included when sharing. */
  batchSize: number;
  /** Starting latents, one row per prompt: [n, C, h, w] (before the sampler's noise scaling). */
  initLatents?: FloatTensor;
  /** Shared-attention controls for a batch; absent for plain generation. */
  sharing?: (layout: { images: number; guided: boolean }) => Record<string, Feed>;
}

export interface GeneratedImage {
  index: number;
  prompt: string;
  seed: number;
  /** [1, 3, H, W] in [-1, 1]. */
  pixels: FloatTensor;
  /** Final denoised latents [1, C, h, w], before division by the VAE scaling factor. */
  latents: FloatTensor;
}

export interface RunControl {
  onProgress?: (event: ProgressEvent) => void;
  signal?: AbortSignal;
}

/** Image i is seeded with seed + i, so any image can be remade alone from its reported seed. */
export function imageSeed(seed: number, index: number): number {
  return (seed + index) >>> 0;
}

/**
 * Chunks of a set: every chunk starts with image 0 (the reference) so that sharing sees the same
 * reference in each, then up to batchSize - 1 further images.
 */
export function planChunks(count: number, batchSize: number, withReference: boolean): number[][] {
  if (batchSize < (withReference ? 2 : 1)) throw new InputError(`batch size ${batchSize} is too small${withReference ? ' to carry the reference and one image' : ''}`);
  if (!withReference) {
    const chunks: number[][] = [];
    for (let i = 0; i < count; i += batchSize) chunks.push(range(i, Math.min(count, i + batchSize)));
    return chunks;
  }
  if (count <= batchSize) return [range(0, count)];
  const chunks: number[][] = [];
  for (let i = 1; i < count; i += batchSize - 1) chunks.push([0, ...range(i, Math.min(count, i + batchSize - 1))]);
  return chunks;
}

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a }, (_, i) => a + i);
}

function pickRows(c: TextConditioning, rows: readonly number[]): TextConditioning {
  return {
    hidden: concatBatch(rows.map((r) => sliceBatch(c.hidden, r, r + 1))),
    pooled: c.pooled ? concatBatch(rows.map((r) => sliceBatch(c.pooled!, r, r + 1))) : undefined,
  };
}

/**
 * Generates a set, yielding each image as soon as it is decoded. With sharing, prompt 0 is the
 * reference: it is generated in every chunk (identically, since sharing leaves a reference
 * unchanged) and reported once.
 */
export async function* generateSet(pipeline: Pipeline, options: GenerateOptions, control: RunControl = {}): AsyncGenerator<GeneratedImage> {
  const { layout } = pipeline.model;
  const count = options.prompts.length;
  const latentShape = pipeline.latentShape(options.width, options.height);
  const perImage = elementCount(latentShape);
  if (options.initLatents) checkInitLatents(options.initLatents, count, latentShape);

  control.onProgress?.({ phase: 'encoding', step: 0, total: 1 });
  const cond = await pipeline.conditioner.encode(options.prompts);
  const uncondRow = isGuided(options.guidance) ? await pipeline.conditioner.encode([options.negativePrompt]) : undefined;
  control.onProgress?.({ phase: 'encoding', step: 1, total: 1 });

  const chunks = planChunks(count, options.batchSize, options.sharing !== undefined);
  const totalSteps = chunks.length * options.steps;
  let stepsDone = 0;
  for (const chunk of chunks) {
    const sampler = createSampler(options.sampler, layout.schedulerConfig, options.steps);
    const sources = chunk.map((i) => new GaussianSource(imageSeed(options.seed, i)));
    const start = new Float32Array(chunk.length * perImage);
    chunk.forEach((image, row) => {
      const initial = options.initLatents ? options.initLatents.data.subarray(image * perImage, (image + 1) * perImage) : sources[row].next(perImage);
      for (let j = 0; j < perImage; j++) start[row * perImage + j] = initial[j] * sampler.initNoiseSigma;
    });
    const rows = pickRows(cond, chunk);
    const final = await denoise(pipeline.unet, {
      latents: { data: start, dims: [chunk.length, ...latentShape] },
      cond: rows,
      uncond: uncondRow ? pickRows(uncondRow, chunk.map(() => 0)) : rows,
      guidance: options.guidance,
      sampler,
      width: options.width,
      height: options.height,
      extraFeeds: options.sharing,
      noise: () => concatRows(sources.map((s) => s.next(perImage))),
      onStep: () => control.onProgress?.({ phase: 'denoising', step: ++stepsDone, total: totalSteps }),
      signal: control.signal,
    });

    for (const [row, image] of chunk.entries()) {
      if (image === 0 && chunk !== chunks[0]) continue;
      control.onProgress?.({ phase: 'decoding', step: image + 1, total: count });
      const latents = sliceBatch(final, row, row + 1);
      const pixels = await decodeLatents(pipeline.model.vaeDecoder, layout, latents);
      yield { index: image, prompt: options.prompts[image], seed: imageSeed(options.seed, image), pixels, latents: { data: latents.data.slice(), dims: latents.dims } };
    }
  }
}

function concatRows(rows: Float32Array[]): Float32Array {
  const out = new Float32Array(rows.reduce((n, r) => n + r.length, 0));
  let offset = 0;
  for (const r of rows) {
    out.set(r, offset);
    offset += r.length;
  }
  return out;
}

function checkInitLatents(t: FloatTensor, count: number, shape: readonly number[]): void {
  const expected = [count, ...shape];
  if (t.dims.length !== 4 || t.dims.some((d, i) => d !== expected[i])) {
    throw new InputError(`initial latents have shape [${t.dims.join(', ')}], expected [${expected.join(', ')}] (one row per prompt, NCHW)`);
  }
}

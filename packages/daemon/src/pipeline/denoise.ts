import type { Feed, FloatTensor } from '../model/tensor';
import { concatBatch } from '../model/tensor';
import type { Sampler } from '../scheduler/sampler';
import { applyGuidance } from '../scheduler/guidance';
import { stepBoundary } from './step-boundary';
import { stackConditioning, type TextConditioning } from './text-conditioning';
import { usesClassifierFreeGuidance, type UnetRunner } from './unet';

export interface DenoiseInput {
  /** Starting latents of the set, one row per image: [n, C, h, w]. */
  latents: FloatTensor;
  cond: TextConditioning;
  /** Negative-prompt conditioning, one row per image; unused when guidance <= 1. */
  uncond: TextConditioning;
  guidance: number;
  sampler: Sampler;
  /** Pixel size, for SDXL's time ids. */
  width: number;
  height: number;
  /**
   * Extra U-Net inputs for the whole batch (the shared-attention controls). Receives the batch
   * layout: with guidance the batch is [uncond_0..uncond_{n-1}, cond_0..cond_{n-1}].
   */
  extraFeeds?: (layout: { images: number; guided: boolean }) => Record<string, Feed>;
  /** Fresh noise for ancestral samplers, one row per image so chunking keeps results. */
  noise?: (stepIndex: number) => Float32Array;
  /** Every `every` steps, the sampler's estimate of the clean latents [n, C, h, w], for progress previews. */
  preview?: { every: number; emit: (estimate: FloatTensor) => void };
  /** Runs after every step, e.g. to pin the reference to an inverted trajectory. */
  afterStep?: (stepIndex: number, latents: FloatTensor) => void;
  onStep?: (stepIndex: number, total: number) => void;
  signal?: AbortSignal;
}

/**
 * The sampling loop shared by every generation path. Each image of the set has its own prompt
 * row and latents; the whole set goes through the U-Net as one batch per step.
 */
export async function denoise(unet: UnetRunner, input: DenoiseInput): Promise<FloatTensor> {
  const { sampler, guidance } = input;
  const images = input.latents.dims[0];
  const guided = usesClassifierFreeGuidance(unet, guidance);
  const conditioning = guided ? stackConditioning(input.uncond, input.cond) : input.cond;
  const extra = input.extraFeeds?.({ images, guided });
  let latents: FloatTensor = { data: input.latents.data.slice(), dims: input.latents.dims };
  const total = sampler.timesteps.length;

  for (let step = 0; step < total; step++) {
    await stepBoundary(input.signal);
    const scaled: FloatTensor = { data: sampler.scaleModelInput(latents.data, step), dims: latents.dims };
    const modelInput = guided ? concatBatch([scaled, scaled]) : scaled;
    const output = await unet.predict(
      { latents: modelInput, timestep: sampler.timesteps[step], hidden: conditioning.hidden, pooled: conditioning.pooled, extra, guidance },
      input.height,
      input.width,
    );
    const eps = guided ? applyGuidance(output.data, guidance) : output.data;
    const previewNow = input.preview !== undefined && (step + 1) % input.preview.every === 0;
    const estimate = previewNow ? sampler.predictX0(eps, step, latents.data) : undefined;
    const noise = sampler.stochastic ? input.noise?.(step) : undefined;
    latents = { data: sampler.step(eps, step, latents.data, noise), dims: latents.dims };
    input.afterStep?.(step, latents);
    if (estimate) input.preview!.emit({ data: estimate, dims: latents.dims });
    input.onStep?.(step + 1, total);
  }
  return latents;
}

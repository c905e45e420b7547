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
  const batch = new DenoisingBatch(unet, input);
  for (let step = 0; step < batch.steps; step++) {
    await stepBoundary(input.signal);
    await batch.step(step);
  }
  return batch.latents;
}

/**
 * One batch's sampling, a step at a time, so that the batches of a set can run in lockstep
 * (generate.ts): a step may add U-Net inputs and fetch more of its outputs.
 */
export class DenoisingBatch {
  readonly steps: number;
  private current: FloatTensor;
  private readonly guided: boolean;
  private readonly conditioning: TextConditioning;
  private readonly extra: Record<string, Feed> | undefined;

  constructor(
    private readonly unet: UnetRunner,
    private readonly input: DenoiseInput,
  ) {
    const images = input.latents.dims[0];
    this.guided = usesClassifierFreeGuidance(unet, input.guidance);
    this.conditioning = this.guided ? stackConditioning(input.uncond, input.cond) : input.cond;
    this.extra = input.extraFeeds?.({ images, guided: this.guided });
    this.current = { data: input.latents.data.slice(), dims: input.latents.dims };
    this.steps = input.sampler.timesteps.length;
  }

  get latents(): FloatTensor {
    return this.current;
  }

  /** Step `step` (in order from 0): `feeds` override the batch's extra inputs; returns the `outputs` fetched. */
  async step(step: number, more: { feeds?: Record<string, Feed>; outputs?: readonly string[] } = {}): Promise<Record<string, FloatTensor>> {
    const { sampler, guidance } = this.input;
    const latents = this.current;
    const scaled: FloatTensor = { data: sampler.scaleModelInput(latents.data, step), dims: latents.dims };
    const modelInput = this.guided ? concatBatch([scaled, scaled]) : scaled;
    const { conditioning } = this;
    const predicted = await this.unet.predictWith(
      {
        latents: modelInput,
        timestep: sampler.timesteps[step],
        hidden: conditioning.hidden,
        pooled: conditioning.pooled,
        extra: more.feeds ? { ...this.extra, ...more.feeds } : this.extra,
        guidance,
      },
      this.input.height,
      this.input.width,
      more.outputs ?? [],
    );
    const eps = this.guided ? applyGuidance(predicted.sample.data, guidance) : predicted.sample.data;
    const previewNow = this.input.preview !== undefined && (step + 1) % this.input.preview.every === 0;
    const estimate = previewNow ? sampler.predictX0(eps, step, latents.data) : undefined;
    const noise = sampler.stochastic ? this.input.noise?.(step) : undefined;
    this.current = { data: sampler.step(eps, step, latents.data, noise), dims: latents.dims };
    this.input.afterStep?.(step, this.current);
    if (estimate) this.input.preview!.emit({ data: estimate, dims: latents.dims });
    this.input.onStep?.(step + 1, this.steps);
    return predicted.outputs;
  }
}

import { InputError, ModelError } from '../errors';
import { rgbToPixels } from '../image/convert';
import type { Image8 } from '../image/image8';
import { resizeCover } from '../image/resize';
import { concatBatch, sliceBatch, type FloatTensor } from '../model/tensor';
import { DdimSampler } from '../scheduler/ddim';
import { parseSchedulerConfig } from '../scheduler/config';
import { applyGuidance } from '../scheduler/guidance';
import { usesClassifierFreeGuidance } from './unet';
import type { RunControl } from './generate';
import type { Pipeline } from './pipeline';
import { stackConditioning } from './text-conditioning';
import { stepBoundary } from './step-boundary';
import { encodeImage } from './vae';

export interface InvertOptions {
  image: Image8;
  /** Describes the image; conditions the inversion and, later, the reference slot. */
  prompt: string;
  steps: number;
  /** The reference implementation inverts with guidance 2. */
  guidance: number;
  width: number;
  height: number;
}

/**
 * A DDIM inversion trajectory, indexed from the noisiest: entry 0 is z_T, entry `steps` is the
 * encoded image z_0. Shape [steps + 1, C, h, w].
 */
export type Trajectory = FloatTensor;

/**
 * DDIM inversion of an image (the method doc, "A reference image"): encode, then walk the DDIM
 * timesteps upwards from the cleanest, predicting noise with guidance on the image's prompt.
 */
export async function invertImage(pipeline: Pipeline, options: InvertOptions, control: RunControl = {}): Promise<Trajectory> {
  const { layout } = pipeline.model;
  const encoder = pipeline.model.vaeEncoder();
  if (!encoder) {
    throw new ModelError(`${layout.dir}: vae_encoder/model.onnx is missing; a reference image needs the VAE encoder`);
  }
  const latentShape = pipeline.latentShape(options.width, options.height);
  if (options.steps < 1) throw new InputError(`steps must be at least 1 (got ${options.steps})`);

  control.onProgress?.({ phase: 'encoding', step: 0, total: 1 });
  const pixels = rgbToPixels([resizeCover(options.image, options.width, options.height)]);
  const z0 = await encodeImage(await encoder, layout, pixels);
  const cond = await pipeline.conditioner.encode([options.prompt]);
  const guided = usesClassifierFreeGuidance(pipeline.unet, options.guidance);
  const conditioning = guided ? stackConditioning(await pipeline.conditioner.encode(['']), cond) : cond;
  control.onProgress?.({ phase: 'encoding', step: 1, total: 1 });

  const sampler = new DdimSampler(parseSchedulerConfig(layout.schedulerConfig, 'ddim', layout.schedulerFile), options.steps);
  // A rewritten U-Net takes its sharing controls even when nothing is shared.
  const extra = pipeline.sharing(null)?.feeds({ images: 1, guided });
  const entries: FloatTensor[] = [z0];
  let z = z0;
  control.onProgress?.({ phase: 'inverting', step: 0, total: options.steps });
  for (let i = options.steps - 1; i >= 0; i--) {
    await stepBoundary(control.signal);
    const input = guided ? concatBatch([z, z]) : z;
    const out = await pipeline.unet.predict(
      { latents: input, timestep: sampler.timesteps[i], hidden: conditioning.hidden, pooled: conditioning.pooled, extra, guidance: options.guidance },
      options.height,
      options.width,
    );
    const eps = guided ? applyGuidance(out.data, options.guidance) : out.data;
    z = { data: sampler.invert(eps, i, z.data), dims: [1, ...latentShape] };
    entries.push(z);
    control.onProgress?.({ phase: 'inverting', step: options.steps - i, total: options.steps });
  }
  return concatBatch(entries.reverse());
}

/** Trajectory entry `index` as a one-image latent [1, C, h, w]. */
export function trajectoryEntry(trajectory: Trajectory, index: number): FloatTensor {
  return sliceBatch(trajectory, index, index + 1);
}

import { ModelError } from '../errors';
import type { ModelLayout } from '../model/layout';
import type { OnnxModel } from '../model/onnx-session';
import { elementCount, type FloatTensor } from '../model/tensor';

/**
 * Latents -> pixels for one image: [1, C, h, w] latents (in the U-Net's scaled space) to
 * [1, 3, H, W] in [-1, 1]. One image per call so results stream out as they finish and memory
 * stays bounded at large sizes.
 */
export async function decodeLatents(decoder: OnnxModel, layout: ModelLayout, latents: FloatTensor): Promise<FloatTensor> {
  const scaled = new Float32Array(latents.data.length);
  const inv = 1 / layout.vae.scalingFactor;
  for (let i = 0; i < scaled.length; i++) scaled[i] = latents.data[i] * inv;
  const out = await decoder.run({ latent_sample: { data: scaled, dims: latents.dims } }, ['sample']);
  return out.sample;
}

/**
 * Pixels -> latents: [1, 3, H, W] in [-1, 1] to [1, C, h, w] scaled latents. Exports give either
 * a sampled latent (`latent_sample`) or the distribution's parameters (`latent_parameters`: mean
 * then log-variance on channels); inversion wants the mean.
 */
export async function encodeImage(encoder: OnnxModel, layout: ModelLayout, pixels: FloatTensor): Promise<FloatTensor> {
  const names = encoder.outputNames;
  const output = names.includes('latent_parameters') ? 'latent_parameters' : names.includes('latent_sample') ? 'latent_sample' : undefined;
  if (!output) {
    throw new ModelError(`${encoder.path}: expected an output "latent_sample" or "latent_parameters"; the model has ${names.join(', ')}`);
  }
  const result = (await encoder.run({ sample: pixels }, [output]))[output];
  const channels = layout.vae.latentChannels;
  const [n, c, h, w] = result.dims;
  const expected = output === 'latent_parameters' ? 2 * channels : channels;
  if (c !== expected) throw new ModelError(`${encoder.path}: output ${output} has ${c} channels, expected ${expected}`);
  const mean = result.data.subarray(0, n * channels * h * w);
  if (n !== 1) throw new Error('encodeImage takes one image at a time');
  const latents = new Float32Array(elementCount([1, channels, h, w]));
  for (let i = 0; i < latents.length; i++) latents[i] = mean[i] * layout.vae.scalingFactor;
  return { data: latents, dims: [1, channels, h, w] };
}

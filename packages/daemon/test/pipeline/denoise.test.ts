import { describe, expect, it } from 'vitest';
import { denoise } from '../../src/pipeline/denoise';
import type { UnetRunner } from '../../src/pipeline/unet';
import type { FloatTensor } from '../../src/model/tensor';
import { createSampler } from '../../src/scheduler/create-sampler';
import type { Sampler } from '../../src/scheduler/sampler';
import { SD_CONFIG } from '../scheduler/reference';

/** A U-Net that predicts a fixed fraction of its input: enough to follow the loop by hand. */
const unet = {
  predictWith: async (call: { latents: FloatTensor }) => ({ sample: { data: call.latents.data.map((v) => 0.1 * v), dims: call.latents.dims }, outputs: {} }),
} as unknown as UnetRunner;

const latents: FloatTensor = { data: Float32Array.from({ length: 2 * 4 * 2 * 2 }, (_, i) => (i % 7) / 7 - 0.4), dims: [2, 4, 2, 2] };
const cond = { hidden: { data: new Float32Array(2 * 3 * 4), dims: [2, 3, 4] } };

async function run(sampler: Sampler) {
  let draws = 0;
  const result = await denoise(unet, {
    latents, cond, uncond: cond, guidance: 1, sampler, width: 16, height: 16,
    noise: () => {
      draws++;
      return new Float32Array(latents.data.length).fill(0.5);
    },
  });
  return { result, draws };
}

describe('denoise', () => {
  it('gives a deterministic sampler no noise and draws none, and steps it as the sampler does by hand', async () => {
    const sampler = createSampler('ddim', SD_CONFIG, 5);
    const { result, draws } = await run(sampler);
    expect(draws).toBe(0);
    let x: Float32Array = latents.data.slice();
    for (let step = 0; step < 5; step++) x = sampler.step(x.map((v) => 0.1 * v), step, x);
    expect([...result.data]).toEqual([...x]);
  });

  it('draws fresh noise every step for stochastic samplers (DDIM with eta, Euler ancestral)', async () => {
    expect((await run(createSampler('ddim', SD_CONFIG, 4, { eta: 0.5 }))).draws).toBe(4);
    expect((await run(createSampler('euler_ancestral', SD_CONFIG, 3))).draws).toBe(3);
  });
});

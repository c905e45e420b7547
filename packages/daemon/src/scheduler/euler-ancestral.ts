import type { SchedulerConfig } from './config';
import { alphasCumprod } from './noise-schedule';
import { checkSameLength } from './prediction';
import { checkStepIndex, requireNoise, type Sampler } from './sampler';
import { spacedTimesteps } from './timesteps';

/** sigma(t) = sqrt((1 - a_t) / a_t), linearly interpolated between integer training timesteps (`np.interp`). */
function sigmaAt(alphaBar: Float64Array, t: number): number {
  const sigma = (i: number) => Math.sqrt((1 - alphaBar[i]) / alphaBar[i]);
  const i = Math.floor(t);
  return i === t ? sigma(i) : sigma(i) + (t - i) * (sigma(i + 1) - sigma(i));
}

/**
 * Euler ancestral in sigma space (k-diffusion's `sample_euler_ancestral`, as diffusers'
 * EulerAncestralDiscreteScheduler computes it): x lives at variance 1 + sigma², the model sees
 * x / sqrt(1 + sigma²). The step goes down to sigma_down deterministically, then adds fresh
 * noise of sigma_up so the variance lands on the next sigma. With trailing spacing and one step
 * (SD-Turbo, SDXL-Turbo) it returns the model's x0 directly.
 */
export class EulerAncestralSampler implements Sampler {
  readonly timesteps: readonly number[];
  /** sigmas[i] at step i, plus a final 0. */
  readonly sigmas: readonly number[];
  readonly initNoiseSigma: number;
  readonly stochastic = true;

  constructor(
    private readonly config: SchedulerConfig,
    steps: number,
  ) {
    const alphaBar = alphasCumprod(config);
    // Zero terminal SNR would make the first sigma infinite; diffusers clamps it to fp16's smallest subnormal.
    if (config.rescaleBetasZeroSnr) alphaBar[alphaBar.length - 1] = 2 ** -24;
    // diffusers keeps these timesteps in float32; the U-Net gets exactly these values.
    this.timesteps = spacedTimesteps(config, steps).map(Math.fround);
    this.sigmas = [...this.timesteps.map((t) => sigmaAt(alphaBar, t)), 0];
    const max = Math.max(...this.sigmas);
    this.initNoiseSigma = config.timestepSpacing === 'leading' ? Math.sqrt(max * max + 1) : max;
  }

  scaleModelInput(sample: Float32Array, stepIndex: number): Float32Array {
    checkStepIndex(stepIndex, this.timesteps.length);
    const scale = 1 / Math.sqrt(this.sigmas[stepIndex] ** 2 + 1);
    return sample.map((x) => x * scale);
  }

  /** The denoised sample: x - sigma eps (epsilon), or c_out v + c_skip x (v-prediction, in sigma space). */
  predictX0(modelOutput: Float32Array, stepIndex: number, sample: Float32Array): Float32Array {
    checkStepIndex(stepIndex, this.timesteps.length);
    checkSameLength(modelOutput, sample, 'model output and sample');
    const sigma = this.sigmas[stepIndex];
    const cOut = -sigma / Math.sqrt(sigma * sigma + 1);
    const cSkip = 1 / (sigma * sigma + 1);
    const v = this.config.predictionType === 'v_prediction';
    const x0 = new Float32Array(sample.length);
    for (let i = 0; i < x0.length; i++) x0[i] = v ? modelOutput[i] * cOut + sample[i] * cSkip : sample[i] - sigma * modelOutput[i];
    return x0;
  }

  step(modelOutput: Float32Array, stepIndex: number, sample: Float32Array, noise?: Float32Array): Float32Array {
    const x0 = this.predictX0(modelOutput, stepIndex, sample);
    const sigma = this.sigmas[stepIndex];
    const next = this.sigmas[stepIndex + 1];
    const sigmaUp = Math.sqrt((next * next * (sigma * sigma - next * next)) / (sigma * sigma));
    const sigmaDown = Math.sqrt(next * next - sigmaUp * sigmaUp);
    const z = sigmaUp > 0 ? requireNoise(noise, sample, 'Euler ancestral') : undefined;
    const dt = sigmaDown - sigma;
    const out = new Float32Array(sample.length);
    for (let i = 0; i < out.length; i++) {
      const x = sample[i];
      const derivative = (x - x0[i]) / sigma;
      out[i] = x + derivative * dt + (z ? z[i] * sigmaUp : 0);
    }
    return out;
  }
}

import type { SchedulerConfig } from './config';
import { alphasCumprod } from './noise-schedule';
import { splitPrediction } from './prediction';
import { checkStepIndex, requireNoise, type Sampler } from './sampler';
import { checkSteps } from './timesteps';

/**
 * Consistency-model boundary scalings (LCM, Luo et al. 2023) with sigma_data = 0.5 and
 * s = t · timestep_scaling: c_skip = 0.25 / (s² + 0.25), c_out = s / sqrt(s² + 0.25).
 */
export function lcmBoundaryScalings(t: number, timestepScaling: number): { cSkip: number; cOut: number } {
  const s = t * timestepScaling;
  const sigmaData2 = 0.25;
  return { cSkip: sigmaData2 / (s * s + sigmaData2), cOut: s / Math.sqrt(s * s + sigmaData2) };
}

/**
 * LCM's timesteps: the distillation schedule (k·c - 1 for k = 1..original_inference_steps,
 * c = N // original_inference_steps), reversed, sampled at floor(j · len / steps). `steps_offset`
 * and `timestep_spacing` do not apply.
 */
export function lcmTimesteps(config: SchedulerConfig, steps: number): number[] {
  const original = config.originalInferenceSteps;
  checkSteps(steps, original, 'an LCM model samples from its original_inference_steps schedule');
  const c = Math.floor(config.numTrainTimesteps / original);
  const schedule = Array.from({ length: original }, (_, k) => (original - k) * c - 1);
  return Array.from({ length: steps }, (_, j) => schedule[Math.floor(j * (original / steps))]);
}

/**
 * Multistep consistency sampling as diffusers' LCMScheduler: each step maps x_t to a clean
 * estimate denoised = c_out · x0 + c_skip · x_t, then (except after the last step) re-noises it
 * to the next timestep with fresh noise.
 */
export class LcmSampler implements Sampler {
  readonly timesteps: readonly number[];
  readonly initNoiseSigma = 1;
  readonly stochastic = true;
  private readonly alphaBar: Float64Array;

  constructor(
    private readonly config: SchedulerConfig,
    steps: number,
  ) {
    this.timesteps = lcmTimesteps(config, steps);
    this.alphaBar = alphasCumprod(config);
  }

  scaleModelInput(sample: Float32Array, stepIndex: number): Float32Array {
    checkStepIndex(stepIndex, this.timesteps.length);
    return sample;
  }

  /** The consistency model's output: c_out x0 + c_skip x, the "denoised" sample of diffusers' LCMScheduler. */
  predictX0(modelOutput: Float32Array, stepIndex: number, sample: Float32Array): Float32Array {
    checkStepIndex(stepIndex, this.timesteps.length);
    const { predictionType, clipSample, clipSampleRange, timestepScaling } = this.config;
    const t = this.timesteps[stepIndex];
    const { x0 } = splitPrediction(predictionType, modelOutput, sample, this.alphaBar[t], clipSample ? clipSampleRange : undefined);
    const { cSkip, cOut } = lcmBoundaryScalings(t, timestepScaling);
    const out = new Float32Array(sample.length);
    for (let i = 0; i < out.length; i++) out[i] = cOut * x0[i] + cSkip * sample[i];
    return out;
  }

  step(modelOutput: Float32Array, stepIndex: number, sample: Float32Array, noise?: Float32Array): Float32Array {
    const out = this.predictX0(modelOutput, stepIndex, sample);
    if (stepIndex === this.timesteps.length - 1) return out;

    const z = requireNoise(noise, sample, 'LCM');
    const a = this.alphaBar[this.timesteps[stepIndex + 1]];
    const [ca, cz] = [Math.sqrt(a), Math.sqrt(1 - a)];
    for (let i = 0; i < out.length; i++) out[i] = ca * out[i] + cz * z[i];
    return out;
  }
}

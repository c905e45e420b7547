import { InputError } from '../errors';
import type { SchedulerConfig } from './config';
import { alphasCumprod } from './noise-schedule';
import { checkSameLength, predictionCoefficients, splitPrediction } from './prediction';
import { checkStepIndex, requireNoise, type Sampler } from './sampler';
import { roundHalfEven, spacedTimesteps } from './timesteps';

/**
 * DDIM (Song et al. 2021) as diffusers' DDIMScheduler computes it. The step from t goes to
 * t_prev = t - N // steps whatever the spacing; below 0 the "final" alpha-bar is used (1 with
 * `set_alpha_to_one`, else alpha-bar_0).
 */
export class DdimSampler implements Sampler {
  readonly timesteps: readonly number[];
  readonly initNoiseSigma = 1;
  private readonly alphaBar: Float64Array;
  private readonly finalAlphaBar: number;
  private readonly stride: number;

  constructor(
    private readonly config: SchedulerConfig,
    steps: number,
    /** 0: deterministic DDIM; 1: DDPM-like ancestral noise. */
    private readonly eta = 0,
  ) {
    if (!(eta >= 0)) throw new InputError(`eta must be a number >= 0 (got ${eta})`);
    this.timesteps = spacedTimesteps(config, steps).map(roundHalfEven);
    this.alphaBar = alphasCumprod(config);
    this.finalAlphaBar = config.setAlphaToOne ? 1 : this.alphaBar[0];
    this.stride = Math.floor(config.numTrainTimesteps / steps);
  }

  get stochastic(): boolean {
    return this.eta > 0;
  }

  private alphaBarAt(t: number): number {
    return t >= 0 ? this.alphaBar[t] : this.finalAlphaBar;
  }

  /** alpha-bar at step `stepIndex`'s timestep and at the one it steps to. */
  private levels(stepIndex: number): { now: number; prev: number } {
    checkStepIndex(stepIndex, this.timesteps.length);
    const t = this.timesteps[stepIndex];
    return { now: this.alphaBarAt(t), prev: this.alphaBarAt(t - this.stride) };
  }

  private split(modelOutput: Float32Array, sample: Float32Array, alphaBar: number) {
    const { predictionType, clipSample, clipSampleRange } = this.config;
    return splitPrediction(predictionType, modelOutput, sample, alphaBar, clipSample ? clipSampleRange : undefined);
  }

  scaleModelInput(sample: Float32Array, stepIndex: number): Float32Array {
    checkStepIndex(stepIndex, this.timesteps.length);
    return sample;
  }

  /** The model's estimate of the clean sample at step `stepIndex` (e.g. for previews). */
  predictX0(modelOutput: Float32Array, stepIndex: number, sample: Float32Array): Float32Array {
    return this.split(modelOutput, sample, this.levels(stepIndex).now).x0;
  }

  /**
   * x_prev = sqrt(a_prev) x0 + sqrt(1 - a_prev - sigma²) eps + sigma z, with
   * sigma = eta · sqrt((1 - a_prev) / (1 - a) · (1 - a / a_prev)).
   */
  step(modelOutput: Float32Array, stepIndex: number, sample: Float32Array, noise?: Float32Array): Float32Array {
    checkSameLength(modelOutput, sample, 'model output and sample');
    const { now, prev } = this.levels(stepIndex);
    const sigma = this.eta * Math.sqrt(((1 - prev) / (1 - now)) * (1 - now / prev));
    const z = sigma > 0 ? requireNoise(noise, sample, 'DDIM with eta > 0') : undefined;
    const cx = Math.sqrt(prev);
    const ce = Math.sqrt(1 - prev - sigma * sigma);
    const { x0x, x0o, epsx, epso } = predictionCoefficients(this.config.predictionType, now);
    const { clipSample, clipSampleRange: clip } = this.config;
    // One pass: this runs on every latent value at every step (a split into x0 and eps arrays
    // first made the scheduler ~3% of a set on the default model).
    const out = new Float32Array(sample.length);
    for (let i = 0; i < out.length; i++) {
      const x = sample[i];
      const o = modelOutput[i];
      let x0 = x0x * x + x0o * o;
      if (clipSample) x0 = Math.min(clip, Math.max(-clip, x0));
      out[i] = cx * x0 + ce * (epsx * x + epso * o) + (z ? sigma * z[i] : 0);
    }
    return out;
  }

  /**
   * DDIM inversion (the method doc, "A reference image"): `step` run backwards at eta 0. `sample`
   * is at the level a_prev that step `stepIndex` leads to (the clean latent for the last index);
   * the result is at its timestep's level a_t:
   *   x0 = (z - sqrt(1-a_prev) eps) / sqrt(a_prev),   z_t = sqrt(a_t) x0 + sqrt(1-a_t) eps.
   * Walking indices steps-1 .. 0 yields trajectory entries steps-1 .. 0 (entry 0 = z_T).
   * `modelOutput` is the (guided) prediction for `sample` at timestep t; v/sample predictions
   * are turned into eps at a_t, the level the model was told. No clipping, as in the reference.
   */
  invert(modelOutput: Float32Array, stepIndex: number, sample: Float32Array): Float32Array {
    const { now, prev } = this.levels(stepIndex);
    const { eps } = splitPrediction(this.config.predictionType, modelOutput, sample, now);
    const [sp, bp, st, bt] = [Math.sqrt(prev), Math.sqrt(1 - prev), Math.sqrt(now), Math.sqrt(1 - now)];
    const out = new Float32Array(sample.length);
    for (let i = 0; i < out.length; i++) {
      const x0 = (sample[i] - bp * eps[i]) / sp;
      out[i] = st * x0 + bt * eps[i];
    }
    return out;
  }
}

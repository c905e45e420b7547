/**
 * What the sampling loop needs from a sampler, set up for a fixed number of steps. Steps are
 * addressed by index into `timesteps`; tensors are flat Float32Arrays of the whole batch (any
 * shape, elementwise math). Nothing is mutated: every method returns a new array or its input.
 *
 * Loop: x = noise · initNoiseSigma; for each step i:
 *   out = model(scaleModelInput(x, i), timesteps[i]); x = step(out, i, x, freshNoise).
 */
export interface Sampler {
  /** The timestep to give the model at each step, noisiest first (may be fractional). */
  readonly timesteps: readonly number[];
  /** Standard deviation of the starting latents, relative to unit Gaussian noise. */
  readonly initNoiseSigma: number;
  /** Whether `step` takes fresh noise; a deterministic sampler is given none (drawing it is wasted work). */
  readonly stochastic: boolean;
  /** The clean sample the model output implies at step `stepIndex` (for previews). */
  predictX0(modelOutput: Float32Array, stepIndex: number, sample: Float32Array): Float32Array;
  /** The model input at step `stepIndex` (samplers in sigma space rescale it to unit variance). */
  scaleModelInput(sample: Float32Array, stepIndex: number): Float32Array;
  /**
   * The sample after step `stepIndex`. `noise` (standard normal, same length as `sample`) is
   * required by stochastic samplers: Euler ancestral, LCM, DDIM with eta > 0.
   */
  step(modelOutput: Float32Array, stepIndex: number, sample: Float32Array, noise?: Float32Array): Float32Array;
}

export function requireNoise(noise: Float32Array | undefined, sample: Float32Array, sampler: string): Float32Array {
  if (!noise) throw new Error(`${sampler} needs fresh noise at every step`);
  if (noise.length !== sample.length) throw new Error(`${sampler}: noise has ${noise.length} values, sample ${sample.length}`);
  return noise;
}

export function checkStepIndex(stepIndex: number, steps: number): void {
  if (!Number.isInteger(stepIndex) || stepIndex < 0 || stepIndex >= steps) {
    throw new Error(`step index ${stepIndex} is outside 0..${steps - 1}`);
  }
}

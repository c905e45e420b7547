/**
 * Independent float64 reference values for the tests: the Stable Diffusion training schedule
 * written straight from its definition (beta_i = (sqrt(0.00085) + i/999 · (sqrt(0.012) -
 * sqrt(0.00085)))², alpha-bar_t = prod_{i<=t} (1 - beta_i)), not via the module under test.
 */
export const SD_CONFIG = {
  _class_name: 'PNDMScheduler',
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  beta_end: 0.012,
  num_train_timesteps: 1000,
  steps_offset: 1,
  set_alpha_to_one: false,
  clip_sample: false,
  skip_prk_steps: true,
  trained_betas: null,
};

export function sdBeta(i: number): number {
  const lo = Math.sqrt(0.00085);
  const hi = Math.sqrt(0.012);
  const s = lo + ((hi - lo) * i) / 999;
  return s * s;
}

export function sdAlphaBar(t: number): number {
  let product = 1;
  for (let i = 0; i <= t; i++) product *= 1 - sdBeta(i);
  return product;
}

export function sdSigma(t: number): number {
  const a = sdAlphaBar(t);
  return Math.sqrt((1 - a) / a);
}

/** Asserts every element is within `tol` of the expected float64 value (float32 results). */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-6): void {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} !== ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs(actual[i] - expected[i]);
    const scale = Math.max(1, Math.abs(expected[i]));
    if (!(diff <= tol * scale)) throw new Error(`element ${i}: ${actual[i]} vs expected ${expected[i]} (diff ${diff})`);
  }
}

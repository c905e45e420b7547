import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors';
import { parseSchedulerConfig } from '../../src/scheduler/config';
import { LcmSampler, lcmBoundaryScalings, lcmTimesteps } from '../../src/scheduler/lcm';
import { expectClose, sdAlphaBar } from './reference';

/** SimianLuo/LCM_Dreamshaper_v7's scheduler config. */
const LCM_CONFIG = {
  _class_name: 'LCMScheduler',
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  beta_end: 0.012,
  num_train_timesteps: 1000,
  original_inference_steps: 50,
  set_alpha_to_one: true,
  steps_offset: 1,
  clip_sample: false,
  prediction_type: 'epsilon',
  timestep_scaling: 10,
};
const config = parseSchedulerConfig(LCM_CONFIG, 'lcm');
const f32 = (values: number[]) => Float32Array.from(values);
const sample = f32([0.5, -1, 2, 0]);
const eps = f32([0.1, 0.2, -0.3, 1]);

describe('LCM', () => {
  it('picks timesteps from the 50-step distillation schedule 999, 979, ..., 19', () => {
    // schedule[j] = 999 - 20j; indices floor(k · 50 / steps)
    // 4 steps: indices 0, 12, 25, 37 -> 999, 759, 499, 259
    expect(lcmTimesteps(config, 4)).toEqual([999, 759, 499, 259]);
    expect(lcmTimesteps(config, 1)).toEqual([999]);
    // 2 steps: indices 0, 25
    expect(lcmTimesteps(config, 2)).toEqual([999, 499]);
    // 8 steps: indices 0, 6, 12, 18, 25, 31, 37, 43
    expect(lcmTimesteps(config, 8)).toEqual([999, 879, 759, 639, 499, 379, 259, 139]);
    expect(() => lcmTimesteps(config, 51)).toThrow(InputError);
  });

  it('boundary scalings c_skip = 0.25 / (s² + 0.25), c_out = s / sqrt(s² + 0.25), s = 10 t', () => {
    // t = 0.05: s = 0.5, c_skip = 0.25 / 0.5 = 0.5, c_out = 0.5 / sqrt(0.5) = 0.70710678
    const mid = lcmBoundaryScalings(0.05, 10);
    expect(mid.cSkip).toBeCloseTo(0.5, 15);
    expect(mid.cOut).toBeCloseTo(Math.SQRT1_2, 15);
    // t = 0: the identity (c_skip 1, c_out 0)
    expect(lcmBoundaryScalings(0, 10)).toEqual({ cSkip: 1, cOut: 0 });
    // t = 999: s = 9990, c_skip = 0.25 / 99800100.25 = 2.50500750e-9, c_out = 9990 / 9990.0000125 = 0.99999999875
    const high = lcmBoundaryScalings(999, 10);
    expect(high.cSkip).toBeCloseTo(2.5050075e-9, 16);
    expect(high.cOut).toBeCloseTo(0.99999999875, 11);
  });

  it('a middle step denoises with the boundary condition and re-noises to the next timestep', () => {
    const s = new LcmSampler(config, 4);
    expect(s.initNoiseSigma).toBe(1);
    expect(s.scaleModelInput(sample, 0)).toBe(sample);
    const noise = f32([1, -1, 0.5, 2]);
    const a = sdAlphaBar(999);
    const next = sdAlphaBar(759);
    const sc = 9990;
    const cSkip = 0.25 / (sc * sc + 0.25);
    const cOut = sc / Math.sqrt(sc * sc + 0.25);
    const denoised = [...sample].map((x, i) => cOut * ((x - Math.sqrt(1 - a) * eps[i]) / Math.sqrt(a)) + cSkip * x);
    const expected = denoised.map((d, i) => Math.sqrt(next) * d + Math.sqrt(1 - next) * noise[i]);
    expectClose(s.step(eps, 0, sample, noise), expected, 1e-6);
    expectClose(s.predictX0(eps, 0, sample), denoised, 1e-6);
    expect(() => s.step(eps, 0, sample)).toThrow('needs fresh noise');
  });

  it('the last step returns the denoised estimate without noise', () => {
    const s = new LcmSampler(config, 4);
    const a = sdAlphaBar(259);
    const sc = 2590;
    const cSkip = 0.25 / (sc * sc + 0.25);
    const cOut = sc / Math.sqrt(sc * sc + 0.25);
    const expected = [...sample].map((x, i) => cOut * ((x - Math.sqrt(1 - a) * eps[i]) / Math.sqrt(a)) + cSkip * x);
    expectClose(s.step(eps, 3, sample), expected, 1e-6);
  });
});

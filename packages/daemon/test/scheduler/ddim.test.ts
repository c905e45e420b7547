import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors';
import { parseSchedulerConfig } from '../../src/scheduler/config';
import { createSampler } from '../../src/scheduler/create-sampler';
import { DdimSampler } from '../../src/scheduler/ddim';
import { SD_CONFIG, expectClose, sdAlphaBar } from './reference';

const f32 = (values: number[]) => Float32Array.from(values);
const sample = f32([0.5, -1, 2, 0]);
const eps = f32([0.1, 0.2, -0.3, 1]);

function ddim(overrides: Record<string, unknown> = {}, steps = 50, eta = 0): DdimSampler {
  return new DdimSampler(parseSchedulerConfig({ ...SD_CONFIG, ...overrides }, 'ddim'), steps, eta);
}

/** x_prev = sqrt(ap) x0 + sqrt(1 - ap) eps, elementwise in float64. */
function ddimFormula(x0: number[], e: number[], ap: number): number[] {
  return x0.map((v, i) => Math.sqrt(ap) * v + Math.sqrt(1 - ap) * e[i]);
}

describe('DDIM', () => {
  it('uses leading timesteps and unit initial noise', () => {
    const s = ddim();
    expect(s.timesteps.length).toBe(50);
    expect([s.timesteps[0], s.timesteps[1], s.timesteps[49]]).toEqual([981, 961, 1]);
    expect(s.initNoiseSigma).toBe(1);
    expect(s.scaleModelInput(sample, 0)).toBe(sample);
  });

  it('epsilon step 981 -> 961', () => {
    // a = alpha-bar_981 = 0.0057755001395, ap = alpha-bar_961 = 0.0072817271409
    const a = sdAlphaBar(981);
    const ap = sdAlphaBar(961);
    expect(a).toBeCloseTo(0.0057755001395, 12);
    expect(ap).toBeCloseTo(0.0072817271409, 12);
    // x0 = (x - sqrt(1-a) eps) / sqrt(a); element 0: (0.5 - 0.9971081 · 0.1) / 0.0759967 = 5.267191
    const x0 = [...sample].map((x, i) => (x - Math.sqrt(1 - a) * eps[i]) / Math.sqrt(a));
    expect(x0[0]).toBeCloseTo(5.267191, 5);
    const expected = ddimFormula(x0, [...eps], ap);
    // element 0: sqrt(ap) · 5.267191 + sqrt(1 - ap) · 0.1 = 0.0853330 · 5.267191 + 0.9963524 · 0.1
    //          = 0.4494654 + 0.0996352 = 0.5491006
    expect(expected[0]).toBeCloseTo(0.5491006, 6);
    const s = ddim();
    expectClose(s.step(eps, 0, sample), expected);
    expectClose(s.predictX0(eps, 0, sample), x0, 1e-6);
  });

  it('the last step (t = 1 -> -19) uses alpha-bar_0 when set_alpha_to_one is false, 1 when true', () => {
    const a = sdAlphaBar(1);
    const x0 = [...sample].map((x, i) => (x - Math.sqrt(1 - a) * eps[i]) / Math.sqrt(a));
    // alpha-bar_0 = 1 - beta_0 = 0.99915
    expectClose(ddim().step(eps, 49, sample), ddimFormula(x0, [...eps], 0.99915));
    // with a final alpha-bar of 1 the result is x0 itself
    expectClose(ddim({ set_alpha_to_one: true }).step(eps, 49, sample), x0);
  });

  it('v-prediction: x0 = sqrt(a) x - sqrt(1-a) v, eps = sqrt(a) v + sqrt(1-a) x', () => {
    const v = f32([0.3, -0.2, 0.5, -1]);
    const a = sdAlphaBar(981);
    const ap = sdAlphaBar(961);
    const x0 = [...sample].map((x, i) => Math.sqrt(a) * x - Math.sqrt(1 - a) * v[i]);
    const e = [...sample].map((x, i) => Math.sqrt(a) * v[i] + Math.sqrt(1 - a) * x);
    // element 0: x0 = 0.0759967 · 0.5 - 0.9971081 · 0.3 = -0.2611341; eps = 0.0759967 · 0.3 + 0.9971081 · 0.5 = 0.5213531
    expect(x0[0]).toBeCloseTo(-0.2611341, 6);
    expect(e[0]).toBeCloseTo(0.5213531, 6);
    expectClose(ddim({ prediction_type: 'v_prediction' }).step(v, 0, sample), ddimFormula(x0, e, ap));
  });

  it('sample prediction: x0 = output, eps = (x - sqrt(a) x0) / sqrt(1-a)', () => {
    const out = f32([0.2, 0.1, -0.4, 0.3]);
    const a = sdAlphaBar(981);
    const e = [...sample].map((x, i) => (x - Math.sqrt(a) * out[i]) / Math.sqrt(1 - a));
    expectClose(ddim({ prediction_type: 'sample' }).step(out, 0, sample), ddimFormula([...out], e, sdAlphaBar(961)));
  });

  it('clip_sample bounds x0 to ±clip_sample_range but keeps the predicted eps', () => {
    const a = sdAlphaBar(981);
    const x0 = [...sample].map((x, i) => Math.min(1.5, Math.max(-1.5, (x - Math.sqrt(1 - a) * eps[i]) / Math.sqrt(a))));
    // x0 element 0 was 5.267, element 3 was (0 - 0.9971081) / 0.0759967 = -13.1204: both clip
    expect([x0[0], x0[3]]).toEqual([1.5, -1.5]);
    expectClose(ddim({ clip_sample: true, clip_sample_range: 1.5 }).step(eps, 0, sample), ddimFormula(x0, [...eps], sdAlphaBar(961)));
  });

  it('eta > 0 adds sigma · noise and shrinks the eps direction', () => {
    const noise = f32([1, -1, 0.5, 2]);
    const a = sdAlphaBar(981);
    const ap = sdAlphaBar(961);
    // sigma = eta · sqrt((1 - ap) / (1 - a) · (1 - a / ap))
    const sigma = 0.5 * Math.sqrt(((1 - ap) / (1 - a)) * (1 - a / ap));
    const x0 = [...sample].map((x, i) => (x - Math.sqrt(1 - a) * eps[i]) / Math.sqrt(a));
    const expected = x0.map((v, i) => Math.sqrt(ap) * v + Math.sqrt(1 - ap - sigma * sigma) * eps[i] + sigma * noise[i]);
    const s = ddim({}, 50, 0.5);
    expectClose(s.step(eps, 0, sample, noise), expected);
    expect(() => s.step(eps, 0, sample)).toThrow('needs fresh noise');
    expect(() => ddim({}, 50, -1)).toThrow(InputError);
  });

  it('createSampler builds the same DDIM from the raw config', () => {
    const s = createSampler('ddim', SD_CONFIG, 50);
    expectClose(s.step(eps, 0, sample), ddim().step(eps, 0, sample), 0);
  });
});

describe('DDIM inversion', () => {
  it('follows the method doc: x0 from a_prev, re-noised to a_t', () => {
    // index 48: t = 21, t_prev = 21 - 20 = 1
    const a = sdAlphaBar(21);
    const ap = sdAlphaBar(1);
    const expected = [...sample].map((z, i) => {
      const x0 = (z - Math.sqrt(1 - ap) * eps[i]) / Math.sqrt(ap);
      return Math.sqrt(a) * x0 + Math.sqrt(1 - a) * eps[i];
    });
    expectClose(ddim().invert(eps, 48, sample), expected);
    // index 49: t = 1, t_prev = -19 < 0 -> the final alpha-bar (alpha-bar_0 = 0.99915 here)
    const first = [...sample].map((z, i) => {
      const x0 = (z - Math.sqrt(1 - 0.99915) * eps[i]) / Math.sqrt(0.99915);
      return Math.sqrt(sdAlphaBar(1)) * x0 + Math.sqrt(1 - sdAlphaBar(1)) * eps[i];
    });
    expectClose(ddim().invert(eps, 49, sample), first);
  });

  it('an inversion step then a DDIM step at the same index recovers the sample (constant eps)', () => {
    const s = ddim();
    for (const k of [49, 30, 0]) expectClose(s.step(eps, k, s.invert(eps, k, sample)), sample, 1e-5);
  });

  it('inverting the whole trajectory and denoising it back returns the clean latent', () => {
    const s = ddim({}, 10);
    const trajectory: Float32Array[] = [sample];
    for (let k = 9; k >= 0; k--) trajectory.unshift(s.invert(eps, k, trajectory[0]));
    expect(trajectory.length).toBe(11);
    let z = trajectory[0];
    for (let k = 0; k < 10; k++) {
      z = s.step(eps, k, z);
      expectClose(z, trajectory[k + 1], 1e-4);
    }
  });
});

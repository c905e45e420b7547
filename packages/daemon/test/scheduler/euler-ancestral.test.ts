import { describe, expect, it } from 'vitest';
import { parseSchedulerConfig } from '../../src/scheduler/config';
import { EulerAncestralSampler } from '../../src/scheduler/euler-ancestral';
import { SD_CONFIG, expectClose, sdSigma } from './reference';

const f32 = (values: number[]) => Float32Array.from(values);
const sample = f32([3, -2, 0.5, 10]);
const eps = f32([0.1, 0.2, -0.3, 1]);

function euler(overrides: Record<string, unknown>, steps: number): EulerAncestralSampler {
  return new EulerAncestralSampler(parseSchedulerConfig({ ...SD_CONFIG, ...overrides }, 'euler_ancestral'), steps);
}

describe('Euler ancestral', () => {
  it('leading spacing (SDXL config): sigmas at the timesteps, init sigma sqrt(sigma_max² + 1)', () => {
    const s = euler({ timestep_spacing: 'leading' }, 4);
    // 1000 // 4 = 250: t = 751, 501, 251, 1
    expect(s.timesteps).toEqual([751, 501, 251, 1]);
    // sigma(t) = sqrt((1 - a_t) / a_t): 4.1166965, 1.6236921, 0.6983981, 0.0413144, then 0
    expect(sdSigma(751)).toBeCloseTo(4.1166965, 6);
    expectClose(s.sigmas, [sdSigma(751), sdSigma(501), sdSigma(251), sdSigma(1), 0], 1e-12);
    // sqrt(4.1166965² + 1) = 4.2364124
    expect(s.initNoiseSigma).toBeCloseTo(Math.sqrt(sdSigma(751) ** 2 + 1), 12);
    expect(s.initNoiseSigma).toBeCloseTo(4.2364124, 6);
  });

  it('trailing spacing, one step (turbo): t = 999, init sigma = sigma_max, the step returns x0', () => {
    const s = euler({ timestep_spacing: 'trailing' }, 1);
    expect(s.timesteps).toEqual([999]);
    // Stable Diffusion's sigma_max = 14.6146412
    expect(s.initNoiseSigma).toBeCloseTo(14.6146412, 6);
    expect(s.initNoiseSigma).toBeCloseTo(sdSigma(999), 12);
    // next sigma 0: sigma_up = 0, sigma_down = 0, x_next = x + eps · (0 - sigma) = x - sigma · eps = x0 (no noise needed)
    expectClose(s.step(eps, 0, sample), [...sample].map((x, i) => x - sdSigma(999) * eps[i]));
    expectClose(s.predictX0(eps, 0, sample), [...sample].map((x, i) => x - sdSigma(999) * eps[i]));
  });

  it('linspace spacing keeps fractional float32 timesteps and interpolates sigma', () => {
    const s = euler({ timestep_spacing: 'linspace' }, 5);
    // k · 999/4 = 0, 249.75, 499.5, 749.25, 999 (all exact in float32)
    expect(s.timesteps).toEqual([999, 749.25, 499.5, 249.75, 0]);
    // sigma(749.25) = sigma(749) + 0.25 (sigma(750) - sigma(749)) = 4.0817294 + 0.25 · 0.0174347 = 4.0860880
    expect(s.sigmas[1]).toBeCloseTo(sdSigma(749) + 0.25 * (sdSigma(750) - sdSigma(749)), 12);
    expect(s.sigmas[1]).toBeCloseTo(4.086088, 6);
    expect(s.initNoiseSigma).toBeCloseTo(sdSigma(999), 12);
  });

  it('scales the model input by 1 / sqrt(sigma² + 1)', () => {
    const s = euler({ timestep_spacing: 'leading' }, 4);
    const c = 1 / Math.sqrt(sdSigma(501) ** 2 + 1);
    expectClose(s.scaleModelInput(sample, 1), [...sample].map((x) => x * c));
  });

  it('epsilon step: Euler to sigma_down, then sigma_up of fresh noise', () => {
    const s = euler({ timestep_spacing: 'leading' }, 4);
    const noise = f32([0.5, -1, 2, 0.25]);
    const from = sdSigma(751);
    const to = sdSigma(501);
    // sigma_up = sqrt(to² (from² - to²) / from²), sigma_down = sqrt(to² - sigma_up²)
    const up = Math.sqrt((to * to * (from * from - to * to)) / (from * from));
    const down = Math.sqrt(to * to - up * up);
    // derivative (x - x0) / sigma with x0 = x - sigma eps is eps itself
    const expected = [...sample].map((x, i) => x + eps[i] * (down - from) + noise[i] * up);
    expectClose(s.step(eps, 0, sample, noise), expected, 1e-6);
    expect(() => s.step(eps, 0, sample)).toThrow('needs fresh noise');
  });

  it('v-prediction: x0 = v · (-sigma / sqrt(sigma² + 1)) + x / (sigma² + 1)', () => {
    const s = euler({ timestep_spacing: 'trailing', prediction_type: 'v_prediction' }, 1);
    const sigma = sdSigma(999);
    const expected = [...sample].map((x, i) => eps[i] * (-sigma / Math.sqrt(sigma * sigma + 1)) + x / (sigma * sigma + 1));
    expectClose(s.step(eps, 0, sample), expected);
  });

  it('zero terminal SNR: alpha-bar_999 is clamped to 2^-24, so sigma_max = sqrt((1 - 2^-24) / 2^-24) ≈ 4096', () => {
    const s = euler({ timestep_spacing: 'trailing', rescale_betas_zero_snr: true }, 2);
    expect(s.sigmas[0]).toBeCloseTo(Math.sqrt((1 - 2 ** -24) / 2 ** -24), 9);
    expect(s.sigmas[0]).toBeCloseTo(4095.99988, 4);
  });
});

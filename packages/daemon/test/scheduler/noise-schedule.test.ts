import { describe, expect, it } from 'vitest';
import { parseSchedulerConfig } from '../../src/scheduler/config';
import { alphasCumprod, betas } from '../../src/scheduler/noise-schedule';
import { SD_CONFIG, sdAlphaBar, sdBeta } from './reference';

const sd = parseSchedulerConfig(SD_CONFIG, 'ddim');

describe('betas and alpha-bar', () => {
  it('scaled_linear: the ends are beta_start and beta_end, the inside is a squared linspace', () => {
    const b = betas(sd);
    expect(b.length).toBe(1000);
    // beta_0 = sqrt(0.00085)² = 0.00085; beta_999 = sqrt(0.012)² = 0.012.
    expect(b[0]).toBeCloseTo(0.00085, 15);
    expect(b[999]).toBeCloseTo(0.012, 15);
    // beta_1 = (0.0291547594742265 + 0.0803897520268067 / 999)² = 0.02923522969647556² = 0.000854698655405686
    expect(b[1]).toBeCloseTo(0.000854698655405686, 15);
    for (const i of [1, 500, 998]) expect(b[i]).toBeCloseTo(sdBeta(i), 15);
  });

  it('alpha-bar is the running product of 1 - beta', () => {
    const a = alphasCumprod(sd);
    // alpha-bar_0 = 1 - 0.00085 = 0.99915; alpha-bar_1 = 0.99915 · (1 - 0.000854698655405686) = 0.998296027838451
    expect(a[0]).toBeCloseTo(0.99915, 15);
    expect(a[1]).toBeCloseTo(0.998296027838451, 14);
    for (const t of [499, 961, 981, 999]) expect(a[t]).toBeCloseTo(sdAlphaBar(t), 13);
    // Stable Diffusion's well-known terminal value: alpha-bar_999 ≈ 0.00466 (sigma_max ≈ 14.6146).
    expect(a[999]).toBeCloseTo(0.0046601, 7);
  });

  it('linear: a plain linspace from beta_start to beta_end', () => {
    const b = betas(parseSchedulerConfig({ beta_schedule: 'linear', beta_start: 0.0001, beta_end: 0.02, num_train_timesteps: 1000 }, 'ddim'));
    // beta_i = 0.0001 + i · (0.0199 / 999); beta_999 = 0.02
    expect(b[0]).toBeCloseTo(0.0001, 15);
    expect(b[1]).toBeCloseTo(0.0001 + 0.0199 / 999, 15);
    expect(b[999]).toBeCloseTo(0.02, 15);
  });

  it('squaredcos_cap_v2: discretised cosine alpha-bar, betas capped at 0.999', () => {
    const b = betas(parseSchedulerConfig({ beta_schedule: 'squaredcos_cap_v2', num_train_timesteps: 1000 }, 'ddim'));
    const f = (t: number) => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    // beta_0 = 1 - f(0.001) / f(0)
    expect(b[0]).toBeCloseTo(1 - f(0.001) / f(0), 15);
    expect(b[500]).toBeCloseTo(1 - f(0.501) / f(0.5), 15);
    // f(1) = cos²(π/2) = 0, so the last beta would be 1: it is capped.
    expect(b[999]).toBe(0.999);
  });

  it('trained_betas replace the schedule', () => {
    const trained = Array.from({ length: 10 }, (_, i) => 0.01 * (i + 1));
    const a = alphasCumprod(parseSchedulerConfig({ num_train_timesteps: 10, trained_betas: trained }, 'ddim'));
    // alpha-bar_1 = 0.99 · 0.98
    expect(a[1]).toBeCloseTo(0.99 * 0.98, 15);
  });

  it('rescale_betas_zero_snr: terminal alpha-bar 0, first unchanged, sqrt(alpha-bar) shifted and scaled linearly', () => {
    const a = alphasCumprod(parseSchedulerConfig({ ...SD_CONFIG, rescale_betas_zero_snr: true }, 'ddim'));
    const s0 = Math.sqrt(sdAlphaBar(0));
    const sT = Math.sqrt(sdAlphaBar(999));
    expect(a[999]).toBe(0);
    expect(a[0]).toBeCloseTo(0.99915, 14);
    // sqrt(new alpha-bar_t) = (sqrt(alpha-bar_t) - sT) · s0 / (s0 - sT)
    const expected = ((Math.sqrt(sdAlphaBar(500)) - sT) * s0) / (s0 - sT);
    expect(Math.sqrt(a[500])).toBeCloseTo(expected, 13);
  });
});

import type { SchedulerConfig } from './config';

/** `count` evenly spaced values from `start` to `end` inclusive. */
function linspace(start: number, end: number, count: number): Float64Array {
  const out = new Float64Array(count);
  const step = (end - start) / (count - 1);
  for (let i = 0; i < count; i++) out[i] = start + i * step;
  out[count - 1] = end;
  return out;
}

/** GLIDE's cosine schedule: betas that discretise alpha-bar(t) = cos²((t + 0.008) / 1.008 · π/2), capped at 0.999. */
function cosineBetas(count: number): Float64Array {
  const alphaBar = (t: number) => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.min(1 - alphaBar((i + 1) / count) / alphaBar(i / count), 0.999);
  return out;
}

function cumprodOfAlphas(betas: Float64Array): Float64Array {
  const out = new Float64Array(betas.length);
  let product = 1;
  for (let i = 0; i < betas.length; i++) {
    product *= 1 - betas[i];
    out[i] = product;
  }
  return out;
}

/**
 * "Common Diffusion Noise Schedules and Sample Steps are Flawed" (Lin et al. 2023), algorithm 1:
 * shift and scale sqrt(alpha-bar) so the last step has zero SNR and the first is unchanged.
 */
function rescaleToZeroTerminalSnr(betas: Float64Array): Float64Array {
  const sqrtBar = cumprodOfAlphas(betas).map(Math.sqrt);
  const first = sqrtBar[0];
  const last = sqrtBar[sqrtBar.length - 1];
  const bar = sqrtBar.map((s) => ((s - last) * first) / (first - last)).map((s) => s * s);
  return bar.map((b, i) => 1 - (i === 0 ? b : b / bar[i - 1]));
}

/** beta_t for every training timestep, in float64. */
export function betas(config: SchedulerConfig): Float64Array {
  const n = config.numTrainTimesteps;
  let out: Float64Array;
  if (config.trainedBetas) out = Float64Array.from(config.trainedBetas);
  else if (config.betaSchedule === 'linear') out = linspace(config.betaStart, config.betaEnd, n);
  else if (config.betaSchedule === 'scaled_linear') out = linspace(Math.sqrt(config.betaStart), Math.sqrt(config.betaEnd), n).map((s) => s * s);
  else out = cosineBetas(n);
  return config.rescaleBetasZeroSnr ? rescaleToZeroTerminalSnr(out) : out;
}

/** alpha-bar_t = prod_{i <= t} (1 - beta_i), in float64. */
export function alphasCumprod(config: SchedulerConfig): Float64Array {
  return cumprodOfAlphas(betas(config));
}

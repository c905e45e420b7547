import type { PredictionType } from './config';

export function checkSameLength(a: Float32Array, b: Float32Array, what: string): void {
  if (a.length !== b.length) throw new Error(`${what}: lengths differ (${a.length} vs ${b.length})`);
}

/**
 * x0 and eps as linear combinations of the sample x and the model output: x0 = x0x·x + x0o·out,
 * eps = epsx·x + epso·out.
 */
export interface PredictionCoefficients {
  x0x: number;
  x0o: number;
  epsx: number;
  epso: number;
}

/**
 * The clean sample x0 and the noise eps implied by a model output at noise level alpha-bar `a`,
 * where x_t = sqrt(a) x0 + sqrt(1-a) eps:
 * - epsilon:      eps = out,                          x0 = (x - sqrt(1-a) eps) / sqrt(a)
 * - sample:       x0 = out,                           eps = (x - sqrt(a) x0) / sqrt(1-a)
 * - v_prediction: x0 = sqrt(a) x - sqrt(1-a) v,      eps = sqrt(a) v + sqrt(1-a) x
 * All three are linear in (x, out), which lets a sampler fold them into its own update and make
 * one pass over the latents per step instead of four.
 */
export function predictionCoefficients(type: PredictionType, alphaBar: number): PredictionCoefficients {
  const sa = Math.sqrt(alphaBar);
  const sb = Math.sqrt(1 - alphaBar);
  switch (type) {
    case 'epsilon':
      return { x0x: 1 / sa, x0o: -sb / sa, epsx: 0, epso: 1 };
    case 'sample':
      return { x0x: 0, x0o: 1, epsx: 1 / sb, epso: -sa / sb };
    case 'v_prediction':
      return { x0x: sa, x0o: -sb, epsx: sb, epso: sa };
  }
}

/** `predictionCoefficients` applied. `clip` bounds x0 (diffusers' `clip_sample`); eps is left as predicted, as diffusers does. */
export function splitPrediction(
  type: PredictionType,
  modelOutput: Float32Array,
  sample: Float32Array,
  alphaBar: number,
  clip?: number,
): { x0: Float32Array; eps: Float32Array } {
  checkSameLength(modelOutput, sample, 'model output and sample');
  const { x0x, x0o, epsx, epso } = predictionCoefficients(type, alphaBar);
  const x0 = new Float32Array(sample.length);
  const eps = new Float32Array(sample.length);
  for (let i = 0; i < sample.length; i++) {
    const x = sample[i];
    const out = modelOutput[i];
    const p = x0x * x + x0o * out;
    x0[i] = clip === undefined ? p : Math.min(clip, Math.max(-clip, p));
    eps[i] = epsx * x + epso * out;
  }
  return { x0, eps };
}

import type { PredictionType } from './config';

export function checkSameLength(a: Float32Array, b: Float32Array, what: string): void {
  if (a.length !== b.length) throw new Error(`${what}: lengths differ (${a.length} vs ${b.length})`);
}

/**
 * The clean sample x0 and the noise eps implied by a model output at noise level alpha-bar `a`,
 * where x_t = sqrt(a) x0 + sqrt(1-a) eps:
 * - epsilon:      eps = out,                          x0 = (x - sqrt(1-a) eps) / sqrt(a)
 * - sample:       x0 = out,                           eps = (x - sqrt(a) x0) / sqrt(1-a)
 * - v_prediction: x0 = sqrt(a) x - sqrt(1-a) v,      eps = sqrt(a) v + sqrt(1-a) x
 * `clip` bounds x0 (diffusers' `clip_sample`); eps is left as predicted, as diffusers does.
 */
export function splitPrediction(
  type: PredictionType,
  modelOutput: Float32Array,
  sample: Float32Array,
  alphaBar: number,
  clip?: number,
): { x0: Float32Array; eps: Float32Array } {
  checkSameLength(modelOutput, sample, 'model output and sample');
  const sa = Math.sqrt(alphaBar);
  const sb = Math.sqrt(1 - alphaBar);
  const x0 = new Float32Array(sample.length);
  const eps = new Float32Array(sample.length);
  for (let i = 0; i < sample.length; i++) {
    const out = modelOutput[i];
    const x = sample[i];
    let p: number;
    let e: number;
    if (type === 'epsilon') {
      e = out;
      p = (x - sb * e) / sa;
    } else if (type === 'sample') {
      p = out;
      e = (x - sa * p) / sb;
    } else {
      p = sa * x - sb * out;
      e = sa * out + sb * x;
    }
    x0[i] = clip === undefined ? p : Math.min(clip, Math.max(-clip, p));
    eps[i] = e;
  }
  return { x0, eps };
}

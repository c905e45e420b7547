/**
 * How far float32 self-attention may lie from exact attention, whatever order its sums are taken
 * in: a bound derived from the arithmetic (Higham, Accuracy and Stability of Numerical Algorithms,
 * ch. 3), so it holds for the export's unfused MatMul-Softmax-MatMul and for a fused kernel alike,
 * on any CPU (AVX2 or AVX-512 blocking, online softmax).
 *
 * With u = 2^-24 (float32's unit roundoff) and gamma(n) = n u / (1 - n u), for one query row i of one
 * head (d channels, S tokens, scale s = 1/sqrt(d)):
 * - logit l_ij = s * sum_c q_ic k_jc, a sum of d products plus up to two scalings (the export may
 *   split sqrt(s) over q and k): |error| <= gamma(d + 2) * s * |q_i| |k_j| <= Delta (Cauchy-Schwarz).
 * - softmax weights: logit errors up to Delta move each normalised weight by a factor within
 *   exp(+-2 Delta); exp itself is evaluated within a few ulps (counted as 4 u), the normalising sum
 *   of S terms within gamma(S), the division within u. An online (flash) softmax rescales partial
 *   sums, one more factor of gamma(S) at most.
 * - output o_i = sum_j p_j v_j, a sum of S terms: within gamma(S) * max_j |v_j|, and the weight errors
 *   add their relative size times max_j |v_j| (the weights sum to 1).
 * So |o_i - exact| <= (2 Delta + 4 gamma(S) + 16 u) * max_j |v_j| per head, the constant term with
 * room for exp, the divisions and second-order terms.
 */

const U = 2 ** -24;
const gamma = (n: number) => (n * U) / (1 - n * U);

export interface AttentionTensors {
  /** [batch, tokens, channels], channels = heads * headDim. */
  query: ArrayLike<number>;
  key: ArrayLike<number>;
  value: ArrayLike<number>;
  batch: number;
  tokens: number;
  channels: number;
  heads: number;
}

/** The bound on |computed - exact| of every output element of each (item, head): [batch * heads]. */
export function attentionRoundingBounds(t: AttentionTensors): Float64Array {
  const headDim = t.channels / t.heads;
  const bounds = new Float64Array(t.batch * t.heads);
  for (let b = 0; b < t.batch; b++) {
    for (let h = 0; h < t.heads; h++) {
      let maxQuery = 0;
      let maxKey = 0;
      let maxValue = 0;
      for (let s = 0; s < t.tokens; s++) {
        const at = (b * t.tokens + s) * t.channels + h * headDim;
        let q = 0;
        let k = 0;
        for (let c = 0; c < headDim; c++) {
          q += t.query[at + c] ** 2;
          k += t.key[at + c] ** 2;
          maxValue = Math.max(maxValue, Math.abs(t.value[at + c]));
        }
        maxQuery = Math.max(maxQuery, Math.sqrt(q));
        maxKey = Math.max(maxKey, Math.sqrt(k));
      }
      const delta = (gamma(headDim + 2) * maxQuery * maxKey) / Math.sqrt(headDim);
      bounds[b * t.heads + h] = (2 * delta + 4 * gamma(t.tokens) + 16 * U) * maxValue;
    }
  }
  return bounds;
}

/**
 * The largest |actual - expected| / bound over the elements ([batch, tokens, channels], bounds per
 * item and head as attentionRoundingBounds gives them): at most 1 when every element is within.
 */
export function worstBoundRatio(actual: ArrayLike<number>, expected: ArrayLike<number>, bounds: Float64Array, t: Omit<AttentionTensors, 'query' | 'key' | 'value'>): number {
  const headDim = t.channels / t.heads;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const b = Math.floor(i / (t.tokens * t.channels));
    const h = Math.floor((i % t.channels) / headDim);
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / bounds[b * t.heads + h]);
  }
  return worst;
}

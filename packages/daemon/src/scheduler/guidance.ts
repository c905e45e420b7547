/**
 * Classifier-free guidance on a model output whose batch is [uncond_0..uncond_{n-1},
 * cond_0..cond_{n-1}] (flat, any item shape): returns the n guided items
 * eps_u + g (eps_c - eps_u). g = 1 gives the conditional half.
 */
export function applyGuidance(output: Float32Array, scale: number): Float32Array {
  if (output.length % 2 !== 0) throw new Error(`guidance needs an even batch; got ${output.length} values`);
  const half = output.length / 2;
  const out = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    const u = output[i];
    out[i] = u + scale * (output[half + i] - u);
  }
  return out;
}

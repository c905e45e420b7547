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

/**
 * The guidance-scale embedding LCM-distilled U-Nets take as `timestep_cond` (diffusers'
 * `get_guidance_scale_embedding`, fed w = guidance - 1): with h = dim / 2 and
 * f_i = exp(-i ln(10000) / (h - 1)), [sin(1000 w f_0..f_{h-1}), cos(1000 w f_0..f_{h-1})], and a
 * zero appended for an odd `dim`. Such models do not run classifier-free guidance: the scale is
 * an input.
 */
export function guidanceScaleEmbedding(w: number, dim: number): Float32Array {
  if (!Number.isInteger(dim) || dim < 4) throw new Error(`a guidance embedding needs a width of at least 4, got ${dim}`);
  const half = Math.floor(dim / 2);
  const out = new Float32Array(dim);
  const step = Math.log(10000) / (half - 1);
  for (let i = 0; i < half; i++) {
    const angle = w * 1000 * Math.exp(-i * step);
    out[i] = Math.sin(angle);
    out[half + i] = Math.cos(angle);
  }
  return out;
}

/**
 * DDIM inversion written from the method doc with plain arrays and float64, independent of the
 * daemon's scheduler and pipeline: scaled_linear betas, "leading" timesteps, guidance, and the
 * upward walk z_next = sqrt(a_t) x0 + sqrt(1 - a_t) eps from the cleanest timestep.
 * `predict(z, t)` returns the guided noise prediction for latents z at timestep t.
 */
export async function referenceInversion(
  z0: Float32Array,
  steps: number,
  predict: (z: Float32Array, t: number) => Promise<Float32Array>,
  schedule = { betaStart: 0.00085, betaEnd: 0.012, trainSteps: 1000, stepsOffset: 1 },
): Promise<Float32Array[]> {
  const { betaStart, betaEnd, trainSteps, stepsOffset } = schedule;
  const alphaBar: number[] = [];
  let product = 1;
  for (let i = 0; i < trainSteps; i++) {
    const sqrtBeta = Math.sqrt(betaStart) + ((Math.sqrt(betaEnd) - Math.sqrt(betaStart)) * i) / (trainSteps - 1);
    product *= 1 - sqrtBeta * sqrtBeta;
    alphaBar.push(product);
  }
  const stride = Math.floor(trainSteps / steps);
  const finalAlpha = alphaBar[0]; // set_alpha_to_one = false
  const trajectory = [z0];
  let z = Float64Array.from(z0);
  for (let k = 0; k < steps; k++) {
    const t = k * stride + stepsOffset; // ascending: the cleanest timestep first
    const prev = t - stride;
    const aPrev = prev >= 0 ? alphaBar[prev] : finalAlpha;
    const aT = alphaBar[t];
    const eps = await predict(Float32Array.from(z), t);
    const next = new Float64Array(z.length);
    for (let i = 0; i < z.length; i++) {
      const x0 = (z[i] - Math.sqrt(1 - aPrev) * eps[i]) / Math.sqrt(aPrev);
      next[i] = Math.sqrt(aT) * x0 + Math.sqrt(1 - aT) * eps[i];
    }
    z = next;
    trajectory.push(Float32Array.from(z));
  }
  return trajectory.reverse();
}

import { solveLinearSystem } from '../linear-system';

/**
 * The background as a smooth colour field fitted to the image's border ring: icons are drawn
 * centred, so the ring shows the background, and a model's backgrounds are flat or gently
 * shaded. Each OKLab channel is a quadratic in the pixel position (1, x, y, x², xy, y²), fitted
 * by iteratively reweighted least squares with Tukey's biweight, so ring pixels the icon covers
 * (or specks) drop out of the fit instead of pulling it towards their colour.
 */
export interface BorderModel {
  width: number;
  height: number;
  /** 6 coefficients per OKLab channel, over x and y scaled to [-1, 1]. */
  coefficients: Float64Array;
  /** Robust standard deviation of one OKLab component about the model, over the ring: the background's noise. */
  noise: number;
  /** Share of ring pixels the model explains (residual within `INLIER_DEVIATIONS` noise deviations). */
  inlierShare: number;
  /** Ring width in pixels. */
  ring: number;
}

const TERMS = 6;
/** Tukey's biweight constant: 95% efficiency on Gaussian residuals. */
const TUKEY_C = 4.685;
const ITERATIONS = 10;
/**
 * Floor on the noise scale (OKLab units): an 8-bit flat background has almost no spread, and a
 * zero scale would make the fit reject its own anti-aliased rounding.
 */
const MIN_NOISE = 0.004;
/**
 * Median of the norm of a 3-D standard normal vector (chi with 3 degrees of freedom): turns the
 * median residual distance into the per-component standard deviation.
 */
const CHI3_MEDIAN = 1.5382;
/** 99% of a 3-D Gaussian's residual distances lie within 3.37σ. */
export const INLIER_DEVIATIONS = 3.5;

/** Ring width: 1/32 of the shorter side (2 px at 64, 4 at 128), at least 1. */
export function ringWidth(width: number, height: number): number {
  return Math.max(1, Math.round(Math.min(width, height) / 32));
}

function basis(x: number, y: number, width: number, height: number, out: Float64Array): void {
  const u = width > 1 ? (2 * x) / (width - 1) - 1 : 0;
  const v = height > 1 ? (2 * y) / (height - 1) - 1 : 0;
  out[0] = 1;
  out[1] = u;
  out[2] = v;
  out[3] = u * u;
  out[4] = u * v;
  out[5] = v * v;
}

function median(values: Float64Array): number {
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The model evaluated at every pixel, [L, a, b] triples. */
export function backgroundField(model: BorderModel): Float32Array {
  const { width, height, coefficients } = model;
  const out = new Float32Array(width * height * 3);
  const phi = new Float64Array(TERMS);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      basis(x, y, width, height, phi);
      const p = 3 * (y * width + x);
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let t = 0; t < TERMS; t++) s += coefficients[c * TERMS + t] * phi[t];
        out[p + c] = s;
      }
    }
  }
  return out;
}

/** Fits the border model to an image given in OKLab triples (see `imageToOklab`). */
export function fitBorderModel(lab: Float32Array, width: number, height: number): BorderModel {
  const ring = Math.min(ringWidth(width, height), Math.ceil(Math.min(width, height) / 2));
  const xs: number[] = [];
  const ys: number[] = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (x < ring || y < ring || x >= width - ring || y >= height - ring) {
        xs.push(x);
        ys.push(y);
      }
    }
  }
  const n = xs.length;
  const phi = new Float64Array(n * TERMS);
  const row = new Float64Array(TERMS);
  const values = new Float64Array(n * 3);
  for (let i = 0; i < n; i++) {
    basis(xs[i], ys[i], width, height, row);
    phi.set(row, i * TERMS);
    const p = ys[i] * width + xs[i];
    for (let c = 0; c < 3; c++) values[3 * i + c] = lab[3 * p + c];
  }

  // Start from the per-channel median: a constant that ignores up to half the ring.
  const coefficients = new Float64Array(3 * TERMS);
  for (let c = 0; c < 3; c++) coefficients[c * TERMS] = median(values.filter((_, i) => i % 3 === c));

  const residual = new Float64Array(n);
  const weight = new Float64Array(n);
  let noise = MIN_NOISE;
  const updateResiduals = (): void => {
    for (let i = 0; i < n; i++) {
      let sq = 0;
      for (let c = 0; c < 3; c++) {
        let m = 0;
        for (let t = 0; t < TERMS; t++) m += coefficients[c * TERMS + t] * phi[i * TERMS + t];
        sq += (values[3 * i + c] - m) ** 2;
      }
      residual[i] = Math.sqrt(sq);
    }
    noise = Math.max(MIN_NOISE, median(residual) / CHI3_MEDIAN);
  };

  updateResiduals();
  for (let iteration = 0; iteration < ITERATIONS; iteration++) {
    // Tukey's biweight on the residual distance: background pixels (a 3-D Gaussian, 99.9% under
    // 4σ) keep most of their weight, icon pixels on the ring get none.
    const cutoff = TUKEY_C * noise;
    for (let i = 0; i < n; i++) {
      const r = residual[i] / cutoff;
      weight[i] = r < 1 ? (1 - r * r) ** 2 : 0;
    }
    const ata = new Float64Array(TERMS * TERMS);
    const atb = new Float64Array(3 * TERMS);
    for (let i = 0; i < n; i++) {
      const w = weight[i];
      if (w === 0) continue;
      for (let r = 0; r < TERMS; r++) {
        const pr = w * phi[i * TERMS + r];
        for (let c = r; c < TERMS; c++) ata[r * TERMS + c] += pr * phi[i * TERMS + c];
        for (let c = 0; c < 3; c++) atb[c * TERMS + r] += pr * values[3 * i + c];
      }
    }
    for (let r = 0; r < TERMS; r++) for (let c = 0; c < r; c++) ata[r * TERMS + c] = ata[c * TERMS + r];
    // A tiny ridge keeps the quadratic terms tame when the inliers sit on one or two sides only.
    for (let t = 1; t < TERMS; t++) ata[t * TERMS + t] += 1e-6 * n;
    let changed = false;
    for (let c = 0; c < 3; c++) {
      const { x: z, singular } = solveLinearSystem(ata, atb.subarray(c * TERMS, (c + 1) * TERMS));
      if (singular) continue;
      for (let t = 0; t < TERMS; t++) {
        if (Math.abs(coefficients[c * TERMS + t] - z[t]) > 1e-6) changed = true;
        coefficients[c * TERMS + t] = z[t];
      }
    }
    updateResiduals();
    if (!changed) break;
  }

  let inliers = 0;
  for (let i = 0; i < n; i++) if (residual[i] <= INLIER_DEVIATIONS * noise) inliers++;
  return { width, height, coefficients, noise, inlierShare: n > 0 ? inliers / n : 0, ring };
}

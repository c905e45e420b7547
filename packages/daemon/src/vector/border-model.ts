import { solveLinearSystem } from '../linear-system';
import { median } from '../median';

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

function basis(x: number, y: number, width: number, height: number, out: Float64Array, at = 0): void {
  const u = width > 1 ? (2 * x) / (width - 1) - 1 : 0;
  const v = height > 1 ? (2 * y) / (height - 1) - 1 : 0;
  out[at] = 1;
  out[at + 1] = u;
  out[at + 2] = v;
  out[at + 3] = u * u;
  out[at + 4] = u * v;
  out[at + 5] = v * v;
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

/** Each point's distance (OKLab) from the model: one pass of the fit's hot loop, so kept flat. */
function residuals(phi: Float64Array, values: Float64Array, coefficients: Float64Array, out: Float64Array): void {
  const k = coefficients;
  for (let i = 0; i < out.length; i++) {
    const f = i * TERMS;
    const p0 = phi[f];
    const p1 = phi[f + 1];
    const p2 = phi[f + 2];
    const p3 = phi[f + 3];
    const p4 = phi[f + 4];
    const p5 = phi[f + 5];
    const dl = values[3 * i] - (k[0] * p0 + k[1] * p1 + k[2] * p2 + k[3] * p3 + k[4] * p4 + k[5] * p5);
    const da = values[3 * i + 1] - (k[6] * p0 + k[7] * p1 + k[8] * p2 + k[9] * p3 + k[10] * p4 + k[11] * p5);
    const db = values[3 * i + 2] - (k[12] * p0 + k[13] * p1 + k[14] * p2 + k[15] * p3 + k[16] * p4 + k[17] * p5);
    out[i] = Math.sqrt(dl * dl + da * da + db * db);
  }
}

/** The weighted least-squares normal equations: AᵀWA (upper triangle) and AᵀWb per channel. */
function normalEquations(phi: Float64Array, values: Float64Array, weight: Float64Array): { ata: Float64Array; atb: Float64Array } {
  const ata = new Float64Array(TERMS * TERMS);
  const atb = new Float64Array(3 * TERMS);
  for (let i = 0; i < weight.length; i++) {
    const w = weight[i];
    if (w === 0) continue;
    const f = i * TERMS;
    const l = values[3 * i];
    const a = values[3 * i + 1];
    const b = values[3 * i + 2];
    for (let r = 0; r < TERMS; r++) {
      const pr = w * phi[f + r];
      for (let c = r; c < TERMS; c++) ata[r * TERMS + c] += pr * phi[f + c];
      atb[r] += pr * l;
      atb[TERMS + r] += pr * a;
      atb[2 * TERMS + r] += pr * b;
    }
  }
  return { ata, atb };
}

/** Fits the border model to an image given in OKLab triples (see `imageToOklab`). */
export function fitBorderModel(lab: Float32Array, width: number, height: number): BorderModel {
  const ring = Math.min(ringWidth(width, height), Math.ceil(Math.min(width, height) / 2));
  const inner = Math.max(0, width - 2 * ring) * Math.max(0, height - 2 * ring);
  const n = width * height - inner;
  const phi = new Float64Array(n * TERMS);
  const values = new Float64Array(n * 3);
  let i = 0;
  for (let y = 0; y < height; y++) {
    const band = y < ring || y >= height - ring;
    for (let x = 0; x < width; x++) {
      // Inside the ring: on to its right side.
      if (!band && x >= ring && x < width - ring) {
        x = width - ring - 1;
        continue;
      }
      basis(x, y, width, height, phi, i * TERMS);
      const p = y * width + x;
      values[3 * i] = lab[3 * p];
      values[3 * i + 1] = lab[3 * p + 1];
      values[3 * i + 2] = lab[3 * p + 2];
      i++;
    }
  }

  // Start from the per-channel median: a constant that ignores up to half the ring.
  const scratch = new Float64Array(n);
  const coefficients = new Float64Array(3 * TERMS);
  for (let c = 0; c < 3; c++) coefficients[c * TERMS] = median(values, scratch, n, c, 3);

  const residual = new Float64Array(n);
  const weight = new Float64Array(n);
  let noise = MIN_NOISE;
  const updateResiduals = (): void => {
    residuals(phi, values, coefficients, residual);
    noise = Math.max(MIN_NOISE, median(residual, scratch) / CHI3_MEDIAN);
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
    const { ata, atb } = normalEquations(phi, values, weight);
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

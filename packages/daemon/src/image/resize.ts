import type { Image8 } from './image8';

/** For each output pixel along one axis: the source indices it reads and their weights (summing to 1). */
interface AxisTaps {
  index: Int32Array;
  weight: Float64Array;
  /** Taps per output pixel (a fixed stride into `index` / `weight`). */
  count: number;
}

/**
 * Weights mapping the source span [start, start + span) onto `out` pixels. Shrinking averages
 * the source pixels each output pixel covers, by covered fraction (area resampling); enlarging
 * interpolates linearly between source pixel centres, edges clamped (bilinear).
 */
function axisTaps(size: number, start: number, span: number, out: number): AxisTaps {
  const scale = span / out;
  if (scale <= 1) {
    const index = new Int32Array(out * 2);
    const weight = new Float64Array(out * 2);
    for (let i = 0; i < out; i++) {
      const centre = start + (i + 0.5) * scale - 0.5;
      const left = Math.floor(centre);
      const f = centre - left;
      index[2 * i] = Math.min(size - 1, Math.max(0, left));
      index[2 * i + 1] = Math.min(size - 1, Math.max(0, left + 1));
      weight[2 * i] = 1 - f;
      weight[2 * i + 1] = f;
    }
    return { index, weight, count: 2 };
  }
  const count = Math.ceil(scale) + 1;
  const index = new Int32Array(out * count);
  const weight = new Float64Array(out * count);
  for (let i = 0; i < out; i++) {
    const lo = start + i * scale;
    const hi = lo + scale;
    const first = Math.floor(lo);
    for (let k = 0; k < count; k++) {
      const j = Math.min(size - 1, first + k);
      const covered = Math.max(0, Math.min(hi, first + k + 1) - Math.max(lo, first + k));
      index[i * count + k] = j;
      weight[i * count + k] = covered / scale;
    }
  }
  return { index, weight, count };
}

/**
 * Scales the image to cover `width` x `height` and crops the centre: the model sees the largest
 * centred region of the target aspect ratio. Separable: rows first, then columns, in float, each
 * channel rounded once at the end.
 */
export function resizeCover(image: Image8, width: number, height: number): Image8 {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`resize target must be positive integers, got ${width}x${height}`);
  }
  const { width: w, height: h, channels: c, data } = image;
  const scale = Math.max(width / w, height / h);
  const spanX = width / scale;
  const spanY = height / scale;
  const tx = axisTaps(w, (w - spanX) / 2, spanX, width);
  const ty = axisTaps(h, (h - spanY) / 2, spanY, height);

  const rows = new Float64Array(h * width * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < width; x++) {
      for (let k = 0; k < tx.count; k++) {
        const wgt = tx.weight[x * tx.count + k];
        if (wgt === 0) continue;
        const src = (y * w + tx.index[x * tx.count + k]) * c;
        const dst = (y * width + x) * c;
        for (let ch = 0; ch < c; ch++) rows[dst + ch] += wgt * data[src + ch];
      }
    }
  }

  const out = new Uint8Array(width * height * c);
  const acc = new Float64Array(width * c);
  for (let y = 0; y < height; y++) {
    acc.fill(0);
    for (let k = 0; k < ty.count; k++) {
      const wgt = ty.weight[y * ty.count + k];
      if (wgt === 0) continue;
      const row = ty.index[y * ty.count + k] * width * c;
      for (let i = 0; i < width * c; i++) acc[i] += wgt * rows[row + i];
    }
    for (let i = 0; i < width * c; i++) out[y * width * c + i] = Math.min(255, Math.max(0, Math.round(acc[i])));
  }
  return { width, height, channels: c, data: out };
}

import type { FloatTensor } from '../model/tensor';
import { GaussianSource } from '../scheduler/noise';
import { solveLinearSystem } from '../linear-system';

/**
 * A preview of latents without the VAE: each latent pixel's colour as an affine function of its
 * channels, rgb = weights · z + bias. Fitted to the model's own decoder (`fitLatentToRgb`), so it
 * works for any latent space, the embedded model's included, where published coefficients exist
 * only for some.
 */
export interface LatentToRgb {
  channels: number;
  /** [3][channels], row-major. */
  weights: Float64Array;
  bias: Float64Array;
}

/**
 * Latents to fit the preview map on: unit noise, constant over `block`×`block` latent pixels. A
 * learned decoder is not affine, so the map is only as good as the latents it is fitted on are
 * like the ones it will preview; finished images are mostly flat regions, and a flat latent region
 * decodes to one colour, while pixel-wise noise decodes to texture. On the embedded icon model the
 * map fitted on blocks previews training images' latents with half the colour error of one fitted
 * on pixel-wise noise (13 vs 26 of 255, where the best affine map fitted on those latents themselves
 * reaches 10).
 */
export function blockNoiseLatents(channels: number, count = 8, size = 8, block = 4, seed = 0): FloatTensor {
  const noise = new GaussianSource(seed);
  const cells = size / block;
  const data = new Float32Array(count * channels * size * size);
  for (let b = 0; b < count; b++) {
    for (let c = 0; c < channels; c++) {
      const values = noise.next(cells * cells);
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) data[((b * channels + c) * size + y) * size + x] = values[Math.floor(y / block) * cells + Math.floor(x / block)];
      }
    }
  }
  return { data, dims: [count, channels, size, size] };
}

/**
 * The least-squares affine map from latent pixels to the mean colour of the pixels each one
 * decodes to. `latents` [n, C, h, w]; `pixels` [n, 3, H, W] with H and W whole multiples of h and w.
 */
export function fitLatentToRgb(latents: FloatTensor, pixels: FloatTensor): LatentToRgb {
  const [n, channels, h, w] = latents.dims;
  const [pn, three, ph, pw] = pixels.dims;
  if (pn !== n || three !== 3 || ph % h !== 0 || pw % w !== 0) {
    throw new Error(`fitLatentToRgb: pixels [${pixels.dims}] do not cover latents [${latents.dims}]`);
  }
  const [dy, dx] = [ph / h, pw / w];
  const k = channels + 1;
  // Normal equations X^T X a = X^T y, X's rows being [z_0 .. z_{C-1}, 1], one system per colour.
  const xtx = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const xty = Array.from({ length: 3 }, () => new Array<number>(k).fill(0));
  const row = new Array<number>(k);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let c = 0; c < channels; c++) row[c] = latents.data[((b * channels + c) * h + y) * w + x];
        row[channels] = 1;
        for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) xtx[i][j] += row[i] * row[j];
        for (let colour = 0; colour < 3; colour++) {
          let sum = 0;
          for (let yy = 0; yy < dy; yy++) {
            for (let xx = 0; xx < dx; xx++) sum += pixels.data[((b * 3 + colour) * ph + y * dy + yy) * pw + x * dx + xx];
          }
          const mean = sum / (dy * dx);
          for (let i = 0; i < k; i++) xty[colour][i] += row[i] * mean;
        }
      }
    }
  }
  const weights = new Float64Array(3 * channels);
  const bias = new Float64Array(3);
  const normal = xtx.flat();
  for (let colour = 0; colour < 3; colour++) {
    const a = solveLinearSystem(normal, xty[colour]).x;
    weights.set(a.slice(0, channels), colour * channels);
    bias[colour] = a[channels];
  }
  return { channels, weights, bias };
}

/** The map applied: [n, C, h, w] latents to [n, 3, h, w] colours in [-1, 1] (clamped). */
export function latentsToRgb(map: LatentToRgb, latents: FloatTensor): FloatTensor {
  const [n, channels, h, w] = latents.dims;
  if (channels !== map.channels) throw new Error(`latentsToRgb: the map is for ${map.channels} channels, the latents have ${channels}`);
  const plane = h * w;
  const out = new Float32Array(n * 3 * plane);
  for (let b = 0; b < n; b++) {
    for (let colour = 0; colour < 3; colour++) {
      const target = out.subarray((b * 3 + colour) * plane, (b * 3 + colour + 1) * plane);
      target.fill(map.bias[colour]);
      for (let c = 0; c < channels; c++) {
        const weight = map.weights[colour * channels + c];
        const source = latents.data.subarray((b * channels + c) * plane, (b * channels + c + 1) * plane);
        for (let i = 0; i < plane; i++) target[i] += weight * source[i];
      }
      for (let i = 0; i < plane; i++) target[i] = Math.min(1, Math.max(-1, target[i]));
    }
  }
  return { data: out, dims: [n, 3, h, w] };
}

/**
 * The images side by side in one [1, 3, h·s, n·w·s] strip, each latent pixel an s×s block with
 * s the smallest scale that makes a tile at least `minTile` pixels high.
 */
export function previewStrip(colours: FloatTensor, minTile = 64): FloatTensor {
  const [n, , h, w] = colours.dims;
  const s = Math.max(1, Math.ceil(minTile / h));
  const [height, width] = [h * s, n * w * s];
  const out = new Float32Array(3 * height * width);
  for (let colour = 0; colour < 3; colour++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const b = Math.floor(x / (w * s));
        const source = ((b * 3 + colour) * h + Math.floor(y / s)) * w + Math.floor((x % (w * s)) / s);
        out[(colour * height + y) * width + x] = colours.data[source];
      }
    }
  }
  return { data: out, dims: [1, 3, height, width] };
}

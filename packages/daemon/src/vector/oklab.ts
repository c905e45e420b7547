/*
 * OKLab (Björn Ottosson, "A perceptual color space for image processing", 2020): Euclidean
 * distance tracks perceived colour difference better than sRGB or CIELAB does, and the transform
 * is two 3x3 matrices around a cube root, cheap enough to run on every pixel. The matrices below
 * are the published ones for linear sRGB (D65).
 */

/** An OKLab colour: L in [0, 1] for sRGB colours, a and b roughly in [-0.4, 0.4]. */
export type Oklab = readonly [number, number, number];

/** The sRGB transfer function (IEC 61966-2-1), 8-bit code value -> linear light in [0, 1]. */
export function srgbToLinear(c: number): number {
  const v = c / 255;
  return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
}

/** Linear light -> 8-bit sRGB code value, unrounded and unclamped. */
export function linearToSrgb(v: number): number {
  const s = v <= 0.0031308 ? 12.92 * v : 1.055 * v ** (1 / 2.4) - 0.055;
  return 255 * s;
}

export function linearRgbToOklab(r: number, g: number, b: number): Oklab {
  const l = Math.cbrt(0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b);
  const m = Math.cbrt(0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b);
  const s = Math.cbrt(0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b);
  return [
    0.2104542553 * l + 0.793617785 * m - 0.0040720468 * s,
    1.9779984951 * l - 2.428592205 * m + 0.4505937099 * s,
    0.0259040371 * l + 0.7827717662 * m - 0.808675766 * s,
  ];
}

export function oklabToLinearRgb([L, a, b]: Oklab): [number, number, number] {
  const l = (L + 0.3963377774 * a + 0.2158037573 * b) ** 3;
  const m = (L - 0.1055613458 * a - 0.0638541728 * b) ** 3;
  const s = (L - 0.0894841775 * a - 1.291485548 * b) ** 3;
  return [
    4.0767416621 * l - 3.3077115913 * m + 0.2309699292 * s,
    -1.2684380046 * l + 2.6097574011 * m - 0.3413193965 * s,
    -0.0041960863 * l - 0.7034186147 * m + 1.707614701 * s,
  ];
}

/** 8-bit sRGB -> OKLab. */
export function srgbToOklab(r: number, g: number, b: number): Oklab {
  return linearRgbToOklab(srgbToLinear(r), srgbToLinear(g), srgbToLinear(b));
}

/** OKLab -> 8-bit sRGB, rounded and clamped to the gamut (k-means centres can fall just outside). */
export function oklabToSrgb(lab: Oklab): [number, number, number] {
  const [r, g, b] = oklabToLinearRgb(lab);
  const code = (v: number): number => Math.min(255, Math.max(0, Math.round(linearToSrgb(Math.max(0, v)))));
  return [code(r), code(g), code(b)];
}

export function oklabDistance(a: Oklab, b: Oklab): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

/** Lookup table: 8-bit code value -> linear light (the power function is the slow part). */
const LINEAR = Float64Array.from({ length: 256 }, (_, c) => srgbToLinear(c));

/**
 * Every pixel of an interleaved RGB or RGBA image in OKLab, as [L, a, b] triples (alpha ignored).
 * Float32: the 8-bit input's own quantisation step (~0.004 in L) is far above float32 rounding.
 */
export function imageToOklab(data: Uint8Array, channels: 3 | 4): Float32Array {
  const n = data.length / channels;
  const out = new Float32Array(n * 3);
  const cache = new Map<number, number>();
  for (let p = 0; p < n; p++) {
    const r = data[p * channels];
    const g = data[p * channels + 1];
    const b = data[p * channels + 2];
    const key = (r << 16) | (g << 8) | b;
    const hit = cache.get(key);
    if (hit !== undefined) {
      out.copyWithin(3 * p, 3 * hit, 3 * hit + 3);
      continue;
    }
    cache.set(key, p);
    const lab = linearRgbToOklab(LINEAR[r], LINEAR[g], LINEAR[b]);
    out[3 * p] = lab[0];
    out[3 * p + 1] = lab[1];
    out[3 * p + 2] = lab[2];
  }
  return out;
}

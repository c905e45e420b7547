/** CIE L*a*b* (D65): Euclidean distances are roughly perceptual (ΔE76), unlike distances in sRGB. */
export type Lab = readonly [number, number, number];

function linear(c: number): number {
  const v = c / 255;
  return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
}

function f(t: number): number {
  return t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116;
}

/** 8-bit sRGB -> L*a*b*. */
export function rgbToLab(r: number, g: number, b: number): Lab {
  const R = linear(r);
  const G = linear(g);
  const B = linear(b);
  const fx = f((0.4124564 * R + 0.3575761 * G + 0.1804375 * B) / 0.95047);
  const fy = f(0.2126729 * R + 0.7151522 * G + 0.072175 * B);
  const fz = f((0.0193339 * R + 0.119192 * G + 0.9503041 * B) / 1.08883);
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

/** ΔE76. */
export function deltaE(a: Lab, b: Lab): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

/** Every pixel of an RGB8 (or RGBA8) image in L*a*b*, as [L, a, b] triples. */
export function imageLab(data: Uint8Array, channels: 3 | 4): Float32Array {
  const n = data.length / channels;
  const out = new Float32Array(n * 3);
  // 8-bit images repeat colours a lot (flat fills), and the cube root is the slow part.
  const cache = new Map<number, Lab>();
  for (let p = 0; p < n; p++) {
    const r = data[p * channels];
    const g = data[p * channels + 1];
    const b = data[p * channels + 2];
    const key = (r << 16) | (g << 8) | b;
    let lab = cache.get(key);
    if (!lab) {
      lab = rgbToLab(r, g, b);
      cache.set(key, lab);
    }
    out[3 * p] = lab[0];
    out[3 * p + 1] = lab[1];
    out[3 * p + 2] = lab[2];
  }
  return out;
}

import type { Image8 } from '../image/image8';
import { pick, type Rng } from '../rng';
import type { ContainerKind } from './separate';

/**
 * The colours the model's captions name, as training/style.py draws them (sRGB), so that a
 * reference image's caption uses words the model was trained on.
 */
export const NAMED_COLORS = {
  white: [250, 250, 250],
  cream: [253, 244, 222],
  gray: [128, 132, 140],
  black: [28, 28, 32],
  red: [224, 52, 52],
  orange: [247, 136, 20],
  yellow: [250, 208, 40],
  green: [60, 164, 80],
  teal: [0, 140, 140],
  blue: [36, 120, 230],
  navy: [24, 36, 96],
  purple: [128, 56, 200],
  pink: [236, 90, 150],
  brown: [120, 80, 56],
} as const satisfies Record<string, readonly [number, number, number]>;
export type ColorName = keyof typeof NAMED_COLORS;

export interface ReferenceStyle {
  background: ColorName;
  container: ContainerKind;
  /** The container's colour; the background's when there is none. */
  surface: ColorName;
  foreground: ColorName;
}

/** Foreground/surface pairs a designer would use: clearly apart in lightness. */
const LIGHT: readonly ColorName[] = ['white', 'cream'];
const STRONG: readonly ColorName[] = ['red', 'orange', 'green', 'teal', 'blue', 'navy', 'purple', 'pink', 'black'];

/** A random legible style: dark glyph on a light ground, or light glyph on a strong one. */
export function randomReferenceStyle(rng: Rng): ReferenceStyle {
  const container = pick(rng, ['none', 'circle', 'rounded square'] as const);
  const lightGround = rng.next() < 0.5;
  const background = lightGround ? pick(rng, LIGHT) : pick(rng, STRONG);
  if (container === 'none') {
    return { background, container, surface: background, foreground: lightGround ? pick(rng, STRONG) : pick(rng, LIGHT) };
  }
  const surface = lightGround ? pick(rng, STRONG.filter((c) => c !== 'black')) : pick(rng, LIGHT);
  return { background, container, surface, foreground: lightGround ? pick(rng, LIGHT) : pick(rng, STRONG.filter((c) => c !== background)) };
}

/** "a home icon, white on a blue circle": the training captions' wording for this style. */
export function referenceCaption(prompt: string, style: ReferenceStyle): string {
  if (style.container === 'none') return `${prompt}, ${style.foreground} on ${style.background}`;
  return `${prompt}, ${style.foreground} on a ${style.surface} ${style.container}, ${style.background} background`;
}

/** Glyph viewBox and container sizes as shares of the image, mid-range of the training styles. */
const GLYPH_BOX = 0.8;
const CONTAINER_BOX = 0.88;
const GLYPH_IN_CONTAINER = 0.6;
const CORNER_RADIUS = 0.24;

/**
 * A glyph (coverage, `glyphSize` square, viewBox = frame) drawn as an icon of `size` pixels in the
 * style: background, optional container, glyph. Bilinear coverage and an analytic container edge
 * keep it anti-aliased like the training images.
 */
export function drawReferenceIcon(coverage: Float32Array, glyphSize: number, style: ReferenceStyle, size: number): Image8 {
  const data = new Uint8Array(size * size * 3);
  const boxShare = style.container === 'none' ? GLYPH_BOX : CONTAINER_BOX * GLYPH_IN_CONTAINER;
  const box = boxShare * size;
  const origin = (size - box) / 2;
  const half = (CONTAINER_BOX * size) / 2;
  const radius = CORNER_RADIUS * 2 * half;
  const at = (x: number, y: number) => (x >= 0 && y >= 0 && x < glyphSize && y < glyphSize ? coverage[y * glyphSize + x] : 0);
  const bg = NAMED_COLORS[style.background];
  const surface = NAMED_COLORS[style.surface];
  const fg = NAMED_COLORS[style.foreground];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const px = x + 0.5 - size / 2;
      const py = y + 0.5 - size / 2;
      let containerAlpha = 0;
      if (style.container === 'circle') {
        containerAlpha = clamp01(0.5 - (Math.hypot(px, py) - half));
      } else if (style.container === 'rounded square') {
        const qx = Math.abs(px) - (half - radius);
        const qy = Math.abs(py) - (half - radius);
        const sdf = Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - radius;
        containerAlpha = clamp01(0.5 - sdf);
      }
      const gx = ((x + 0.5 - origin) / box) * glyphSize - 0.5;
      const gy = ((y + 0.5 - origin) / box) * glyphSize - 0.5;
      const x0 = Math.floor(gx);
      const y0 = Math.floor(gy);
      const fx = gx - x0;
      const fy = gy - y0;
      const glyph = (1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x0 + 1, y0)) + fy * ((1 - fx) * at(x0, y0 + 1) + fx * at(x0 + 1, y0 + 1));
      for (let c = 0; c < 3; c++) {
        let v = bg[c];
        v = v * (1 - containerAlpha) + surface[c] * containerAlpha;
        v = v * (1 - glyph) + fg[c] * glyph;
        data[(y * size + x) * 3 + c] = Math.round(v);
      }
    }
  }
  return { width: size, height: size, channels: 3, data };
}

function clamp01(v: number): number {
  return Math.min(1, Math.max(0, v));
}

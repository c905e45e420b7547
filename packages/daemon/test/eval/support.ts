import type { Image8 } from '../../src/image/image8';
import { renderIcon, type IconSpec, type IconStyle, type ShapeName } from '../../src/icons/index';

export const SIZE = 64;

export const PLAIN_STYLE: IconStyle = {
  foreground: 'red',
  secondary: 'yellow',
  background: 'white',
  fill: 'filled',
  stroke: 'medium',
  pattern: 'solid',
  patternAngle: 0,
  patternPeriod: 0.3,
  rounded: 0,
  shadow: false,
};

export function spec(shape: ShapeName, style: Partial<IconStyle> = {}, pose: Partial<IconSpec> = {}): IconSpec {
  return { shape, style: { ...PLAIN_STYLE, ...style }, scale: 0.72, offsetX: 0, offsetY: 0, ...pose };
}

export function image(s: IconSpec, size = SIZE): Image8 {
  return { width: size, height: size, channels: 3, data: renderIcon(s, size).rgb };
}

export function uniformImage(rgb: [number, number, number], size = SIZE): Image8 {
  const data = new Uint8Array(size * size * 3);
  for (let p = 0; p < size * size; p++) data.set(rgb, 3 * p);
  return { width: size, height: size, channels: 3, data };
}

/** IoU of a binary mask with a renderer coverage map thresholded at 0.5. */
export function iouWithCoverage(mask: Uint8Array, coverage: Float32Array): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < mask.length; i++) {
    const c = coverage[i] >= 0.5 ? 1 : 0;
    inter += mask[i] & c;
    union += mask[i] | c;
  }
  return union > 0 ? inter / union : 0;
}

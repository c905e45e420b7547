import type { Image8 } from '../../src/image/image8';
import type { Mask } from '../../src/eval/mask';

export function uniformImage(rgb: readonly [number, number, number], size = 64): Image8 {
  const data = new Uint8Array(size * size * 3);
  for (let p = 0; p < size * size; p++) data.set(rgb, 3 * p);
  return { width: size, height: size, channels: 3, data };
}

/** A mask from rows of '#' (inside) and '.' (outside). */
export function mask(rows: string[]): Mask {
  const data = Uint8Array.from(rows.join('').split(''), (c) => (c === '#' ? 1 : 0));
  return { width: rows[0].length, height: rows.length, data };
}

/** A mask of `size` pixels with the pixels where `inside(x, y)` holds (pixel centres). */
export function shapeMask(size: number, inside: (x: number, y: number) => boolean): Mask {
  const data = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) data[y * size + x] = inside(x + 0.5, y + 0.5) ? 1 : 0;
  return { width: size, height: size, data };
}

/** Intersection over union of two masks of the same size. */
export function iou(a: Mask, b: Mask): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.data.length; i++) {
    inter += a.data[i] & b.data[i];
    union += a.data[i] | b.data[i];
  }
  return union > 0 ? inter / union : 0;
}

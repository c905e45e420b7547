import type { Image8 } from '../image/image8';

/**
 * Mean absolute difference per colour channel (in 8-bit code values) between two images of one
 * size, as a viewer sees them: each is composited on black and on white, and the worse of the
 * two is returned, so a difference in coverage counts as much as one in colour. RGB images are
 * opaque.
 */
export function meanAbsoluteError(a: Image8, b: Image8): number {
  if (a.width !== b.width || a.height !== b.height) throw new Error(`images differ in size: ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  const n = a.width * a.height;
  if (n === 0) return 0;
  let onBlack = 0;
  let onWhite = 0;
  for (let p = 0; p < n; p++) {
    const aa = a.channels === 4 ? a.data[4 * p + 3] / 255 : 1;
    const ab = b.channels === 4 ? b.data[4 * p + 3] / 255 : 1;
    for (let c = 0; c < 3; c++) {
      const va = a.data[p * a.channels + c] * aa;
      const vb = b.data[p * b.channels + c] * ab;
      onBlack += Math.abs(va - vb);
      onWhite += Math.abs(va + 255 * (1 - aa) - (vb + 255 * (1 - ab)));
    }
  }
  return Math.max(onBlack, onWhite) / (3 * n);
}

import { flood8 } from '../connected';
/** Binary masks: one byte per pixel, 1 inside, row-major. */
export interface Mask {
  width: number;
  height: number;
  data: Uint8Array;
}

/** The set pixels' bounding box, inclusive; undefined for an empty mask. */
export function maskBounds(mask: Mask): { x0: number; y0: number; x1: number; y1: number } | undefined {
  const { width: w, height: h, data } = mask;
  let x0 = w;
  let y0 = h;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!data[y * w + x]) continue;
      x0 = Math.min(x0, x);
      y0 = Math.min(y0, y);
      x1 = Math.max(x1, x);
      y1 = Math.max(y1, y);
    }
  }
  return x1 < 0 ? undefined : { x0, y0, x1, y1 };
}

export function maskArea(mask: Mask): number {
  let n = 0;
  for (const v of mask.data) n += v;
  return n;
}

/**
 * The mask plus every region not connected (4-neighbourhood) to the image border: an outline
 * icon's stroke becomes its filled silhouette, so filled and outline icons of a shape compare
 * alike. 4-connectivity keeps the background from leaking through a stroke's diagonal steps.
 */
export function fillHoles(mask: Mask): Mask {
  const { width: w, height: h, data } = mask;
  const outside = new Uint8Array(w * h);
  const stack: number[] = [];
  const visit = (i: number): void => {
    if (data[i] === 0 && outside[i] === 0) {
      outside[i] = 1;
      stack.push(i);
    }
  };
  for (let x = 0; x < w; x++) {
    visit(x);
    visit((h - 1) * w + x);
  }
  for (let y = 0; y < h; y++) {
    visit(y * w);
    visit(y * w + w - 1);
  }
  while (stack.length > 0) {
    const i = stack.pop()!;
    const x = i % w;
    if (x > 0) visit(i - 1);
    if (x < w - 1) visit(i + 1);
    if (i >= w) visit(i - w);
    if (i < w * (h - 1)) visit(i + w);
  }
  const out = new Uint8Array(w * h);
  for (let i = 0; i < w * h; i++) out[i] = 1 - outside[i];
  return { width: w, height: h, data: out };
}

/** Pixels whose 4 neighbours are all inside too: drops the anti-aliased rim, where colours blend. */
export function erode(mask: Mask): Mask {
  const { width: w, height: h, data } = mask;
  const out = new Uint8Array(w * h);
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      out[i] = data[i] & data[i - 1] & data[i + 1] & data[i - w] & data[i + w];
    }
  }
  return { width: w, height: h, data: out };
}

/**
 * The largest 8-connected region: an icon's container, apart from specks of noise in the
 * background (frequent in generated images).
 */
export function largestComponent(mask: Mask): Mask {
  const { width: w, height: h, data } = mask;
  const label = new Int32Array(w * h);
  let best = 0;
  let bestSize = 0;
  let next = 0;
  for (let start = 0; start < w * h; start++) {
    if (!data[start] || label[start]) continue;
    label[start] = ++next;
    let size = 1;
    flood8(w, h, [start], (j) => {
      if (!data[j] || label[j]) return false;
      label[j] = next;
      size++;
      return true;
    });
    if (size > bestSize) {
      best = next;
      bestSize = size;
    }
  }
  const out = new Uint8Array(w * h);
  for (let i = 0; i < w * h; i++) out[i] = best > 0 && label[i] === best ? 1 : 0;
  return { width: w, height: h, data: out };
}

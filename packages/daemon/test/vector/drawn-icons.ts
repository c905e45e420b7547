import type { Image8 } from '../../src/image/image8';

type Rgb = readonly [number, number, number];

/** Inside a shape, for a point in [0, 1]^2. */
export type Shape = (x: number, y: number) => boolean;

export const disc: Shape = (x, y) => (x - 0.5) ** 2 + (y - 0.5) ** 2 < 0.3 ** 2;
export const square: Shape = (x, y) => Math.abs(x - 0.5) < 0.26 && Math.abs(y - 0.5) < 0.26;
export const ring: Shape = (x, y) => {
  const r = Math.hypot(x - 0.5, y - 0.5);
  return r < 0.32 && r > 0.18;
};
export const plus: Shape = (x, y) => (Math.abs(x - 0.5) < 0.09 && Math.abs(y - 0.5) < 0.3) || (Math.abs(y - 0.5) < 0.09 && Math.abs(x - 0.5) < 0.3);

/**
 * A flat-coloured icon as a model draws one: shapes in their colours (later ones on top) on a
 * plain background, away from the border, anti-aliased by 4x4 supersampling.
 */
export function drawnIcon(size: number, background: Rgb, layers: ReadonlyArray<{ shape: Shape; colour: Rgb }>): Image8 {
  const data = new Uint8Array(size * size * 3);
  const S = 4;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const sum = [0, 0, 0];
      for (let sy = 0; sy < S; sy++) {
        for (let sx = 0; sx < S; sx++) {
          const u = (x + (sx + 0.5) / S) / size;
          const v = (y + (sy + 0.5) / S) / size;
          let colour = background;
          for (const layer of layers) if (layer.shape(u, v)) colour = layer.colour;
          for (let c = 0; c < 3; c++) sum[c] += colour[c];
        }
      }
      for (let c = 0; c < 3; c++) data[3 * (y * size + x) + c] = Math.round(sum[c] / (S * S));
    }
  }
  return { width: size, height: size, channels: 3, data };
}

/** Noise everywhere, border included: nothing in it can be told apart from a background. */
export function texture(size: number, seed: number): Image8 {
  let state = seed >>> 0 || 1;
  const next = () => ((state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32);
  const data = new Uint8Array(size * size * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(40 + 180 * next());
  return { width: size, height: size, channels: 3, data };
}

/** Three icons of one style (a navy mark on a pale background), as a set would come out. */
export function drawnSet(size: number): Image8[] {
  const paper = [244, 240, 230] as const;
  const navy = [30, 50, 110] as const;
  const coral = [230, 100, 80] as const;
  return [
    drawnIcon(size, paper, [{ shape: disc, colour: navy }]),
    drawnIcon(size, paper, [{ shape: square, colour: navy }, { shape: plus, colour: coral }]),
    drawnIcon(size, paper, [{ shape: ring, colour: coral }]),
  ];
}

import { Resvg } from '@resvg/resvg-js';
import { expect } from 'vitest';
import type { Image8 } from '../../src/image/image8';

/** The SVG rendered by resvg at `scale` times its viewBox (straight RGBA: resvg's pixels are premultiplied). */
export function render(svg: string, width: number, scale = 1): Image8 {
  const out = new Resvg(svg, { fitTo: { mode: 'width', value: width * scale }, font: { loadSystemFonts: false } }).render();
  // `pixels` is a getter that copies the whole pixmap: read it once.
  const premultiplied = out.pixels;
  const data = new Uint8Array(premultiplied.length);
  for (let i = 0; i < data.length; i += 4) {
    const a = premultiplied[i + 3];
    data[i + 3] = a;
    for (let c = 0; c < 3; c++) data[i + c] = a === 0 ? 0 : Math.min(255, Math.round((premultiplied[i + c] * 255) / a));
  }
  return { width: out.width, height: out.height, channels: 4, data };
}

/**
 * Mean absolute error per colour channel (of 255) between two images as seen on a black and on a
 * white page, the worse of the two (written here independently of the vectoriser's own metric).
 */
export function mae(a: Image8, b: Image8): number {
  let black = 0;
  let white = 0;
  const n = a.width * a.height;
  for (let p = 0; p < n; p++) {
    const alphaA = a.channels === 4 ? a.data[4 * p + 3] / 255 : 1;
    const alphaB = b.channels === 4 ? b.data[4 * p + 3] / 255 : 1;
    for (let c = 0; c < 3; c++) {
      const x = a.data[a.channels * p + c] * alphaA;
      const y = b.data[b.channels * p + c] * alphaB;
      black += Math.abs(x - y);
      white += Math.abs(x + 255 * (1 - alphaA) - y - 255 * (1 - alphaB));
    }
  }
  return Math.max(black, white) / (3 * n);
}

/** The issue's bound on an SVG's error against its PNG (mean, of 255). */
export const PNG_BOUND = 10;
/**
 * How far beyond it an SVG of the embedded model's may come: a cut-out PNG with a wide soft veil
 * (partly transparent pixels, which solid fills cannot draw) can stay a little over the bound even
 * at 128 colours; more than this would be a regression, not the veil.
 */
const PNG_OVERSHOOT = 1;

/**
 * Checks each SVG against its PNG: within the bound, or, where a soft veil keeps it beyond, not by
 * much, in at most one image of the set, and with the result's warning naming its error (when the
 * caller has results with warnings: `warnings`).
 */
export function expectPngBound(errors: readonly number[], warnings?: readonly (string | undefined)[]): void {
  const beyond = errors.map((e, i) => [e, i] as const).filter(([e]) => e > PNG_BOUND);
  expect(beyond.length, `images beyond ${PNG_BOUND}/255 of their PNG: ${beyond.map(([e, i]) => `${i}: ${e.toFixed(2)}`).join(', ')}`).toBeLessThanOrEqual(1);
  for (const [e, i] of beyond) expect(e, `image ${i} vs its PNG`).toBeLessThanOrEqual(PNG_BOUND + PNG_OVERSHOOT);
  if (!warnings) return;
  for (const [i, e] of errors.entries()) {
    const approximate = (warnings[i] ?? '').match(/SVG approximate: it differs from its PNG by (\d+\.\d)\/255/);
    expect(approximate !== null, `image ${i}: warned of its error ${e.toFixed(2)}`).toBe(e > PNG_BOUND);
    if (approximate) expect(Number(approximate[1])).toBeCloseTo(e, 0);
  }
}

/** `<path>` elements of an SVG with their fill. */
export function paths(svg: string): { fill: string; element: string }[] {
  return [...svg.matchAll(/<path\b[^>]*>/g)].map(([element]) => ({ fill: /fill="([^"]+)"/.exec(element)?.[1] ?? '', element }));
}

/** `#abc` -> `#aabbcc`, lower case. */
export function longHex(hex: string): string {
  const h = hex.toLowerCase();
  return h.length === 4 ? `#${h[1]}${h[1]}${h[2]}${h[2]}${h[3]}${h[3]}` : h;
}

/**
 * The thinnest blob any single path draws: each path is rendered alone at 4x, its coverage split
 * into 8-connected blobs, and each blob's thickness estimated as its area over its longer side
 * (source pixels). A one-pixel line has thickness ~1; a sliver thinner than a pixel, less. The
 * sides are those of the pixels at least half covered, where an edge is: counting every pixel an
 * edge touches would lengthen each side by up to half a source pixel (a 4 x 2 triangle of area 3,
 * 0.75 wide, measured 0.735).
 */
export function thinnestBlob(svg: string, width: number, height: number): number {
  const SCALE = 4;
  let thinnest = Infinity;
  for (const { element } of paths(svg)) {
    const alone = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}">${element.replace(/fill="[^"]+"/, 'fill="#000"')}</svg>`;
    const img = render(alone, width, SCALE);
    const w = img.width;
    const h = img.height;
    const seen = new Uint8Array(w * h);
    for (let start = 0; start < w * h; start++) {
      if (seen[start] || img.data[4 * start + 3] === 0) continue;
      const stack = [start];
      seen[start] = 1;
      let area = 0;
      let minX = w, minY = h, maxX = 0, maxY = 0;
      while (stack.length > 0) {
        const i = stack.pop()!;
        area += img.data[4 * i + 3] / 255;
        const x = i % w;
        const y = (i - x) / w;
        if (img.data[4 * i + 3] >= 128) {
          minX = Math.min(minX, x); maxX = Math.max(maxX, x); minY = Math.min(minY, y); maxY = Math.max(maxY, y);
        }
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx, ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
          const j = ny * w + nx;
          if (!seen[j] && img.data[4 * j + 3] > 0) { seen[j] = 1; stack.push(j); }
        }
      }
      // Nowhere half covered: a sliver by any measure.
      if (maxX < minX) return 0;
      const side = Math.max(maxX - minX + 1, maxY - minY + 1) / SCALE;
      thinnest = Math.min(thinnest, area / (SCALE * SCALE) / side);
    }
  }
  return thinnest;
}

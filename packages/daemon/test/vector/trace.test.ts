import { describe, expect, it } from 'vitest';
import type { Image8 } from '../../src/image/image8';
import { srgbToOklab } from '../../src/vector/oklab';
import type { PaletteColour } from '../../src/vector/palette';
import { TRANSPARENT } from '../../src/vector/quantise';
import { svgDocument } from '../../src/vector/svg';
import { stackOrder, traceLayers } from '../../src/vector/trace';
import { render } from './support';

const W = 32;
const palette: PaletteColour[] = [
  { lab: srgbToOklab(30, 60, 200), rgb: [30, 60, 200], hex: '#1e3cc8' },
  { lab: srgbToOklab(230, 40, 40), rgb: [230, 40, 40], hex: '#e62828' },
  { lab: srgbToOklab(250, 220, 60), rgb: [250, 220, 60], hex: '#fadc3c' },
];

function indexImage(at: (x: number, y: number) => number): Uint8Array {
  const index = new Uint8Array(W * W);
  for (let y = 0; y < W; y++) for (let x = 0; x < W; x++) index[y * W + x] = at(x + 0.5, y + 0.5);
  return index;
}

/** A rendered image's coverage at (x, y), 0-255. */
const alphaAt = (image: Image8, x: number, y: number): number => image.data[4 * (y * image.width + x) + 3];

describe('traceLayers', () => {
  it('stacks colours so that neighbouring fills leave no gap for the background to show through', () => {
    // Blue everywhere, a red disc, a yellow ring inside it touching both: three colours meeting.
    const index = indexImage((x, y) => {
      const r = Math.hypot(x - 16, y - 16);
      return r < 5 ? 0 : r < 8 ? 2 : r < 12 ? 1 : 0;
    });
    for (const fidelity of ['smooth', 'exact'] as const) {
      const layers = traceLayers(index, W, W, palette.length, fidelity);
      expect(layers.map((l) => l.colour)).toEqual(stackOrder(index, palette.length));
      // Every pixel fully covered, at the traced size and at others, where edges fall inside
      // pixels: separately traced colours would leave anti-aliased seams there. (Pixel outlines
      // meet on pixel edges: seamless at the traced size, over their bottom colour at others.)
      for (const size of [W, 19, 45]) {
        const image = render(svgDocument(W, W, layers, palette), size);
        let leastAlpha = 255;
        for (let p = 0; p < size * size; p++) leastAlpha = Math.min(leastAlpha, image.data[4 * p + 3]);
        expect(leastAlpha, `${fidelity} at ${size} px`).toBe(255);
      }
    }
  });

  it("runs a colour on under the upper colours it touches, not under islands of them it does not", () => {
    // Blue field (the most pixels), a red band on the left, yellow (the fewest) as a notch in the
    // red band and as an island in the blue, away from the red.
    const index = indexImage((x, y) => {
      if (Math.hypot(x - 23, y - 16) < 4) return 2;
      if (x < 10) return y > 4 && y < 9 ? 2 : 1;
      return x < 12 && y > 4 && y < 9 ? 2 : 0;
    });
    expect(stackOrder(index, palette.length)).toEqual([0, 1, 2]);
    const layers = traceLayers(index, W, W, palette.length, 'smooth');
    const red = layers.find((l) => l.colour === 1)!;
    const redOnly = render(svgDocument(W, W, [red], palette), W);
    // Under the notch the red runs on (no seam where red and yellow meet) ...
    expect(alphaAt(redOnly, 8, 6)).toBe(255);
    // ... but not under the island, which the blue surrounds: a red curve there would only show
    // as a hairline where it and the island's own curve part.
    expect(alphaAt(redOnly, 23, 16)).toBe(0);
    expect(red.subpaths).toBe(1);
    // The whole still covers every pixel.
    const image = render(svgDocument(W, W, layers, palette), W);
    for (let p = 0; p < W * W; p++) expect(image.data[4 * p + 3]).toBe(255);
  });

  it('stacks pixel outlines on their bottom colour only, under the upper colours it touches', () => {
    // On nothing: a blue block (the most pixels) holding a red square and a yellow bar that meet;
    // apart from it, a red island on nothing.
    const index = new Uint8Array(W * W).fill(TRANSPARENT);
    for (let y = 2; y < 22; y++) for (let x = 2; x < 22; x++) index[y * W + x] = x >= 6 && x < 12 && y >= 6 && y < 18 ? 1 : x >= 12 && x < 16 && y >= 6 && y < 18 ? 2 : 0;
    for (let y = 25; y < 30; y++) for (let x = 25; x < 30; x++) index[y * W + x] = 1;
    expect(stackOrder(index, palette.length)).toEqual([0, 1, 2]);
    const layers = traceLayers(index, W, W, palette.length, 'exact');
    const alone = (colour: number) => render(svgDocument(W, W, [layers.find((l) => l.colour === colour)!], palette), W);
    // Blue runs on under red and yellow (pixels fully covered), not under the island.
    const blue = alone(0);
    expect([alphaAt(blue, 8, 10), alphaAt(blue, 14, 10), alphaAt(blue, 27, 27), alphaAt(blue, 23, 10)]).toEqual([255, 255, 0, 0]);
    // Red and yellow are their own pixels, exactly.
    for (const colour of [1, 2]) {
      const image = alone(colour);
      for (let p = 0; p < W * W; p++) expect(image.data[4 * p + 3], `colour ${colour} at ${p}`).toBe(index[p] === colour ? 255 : 0);
    }
    // Shown at 19 px: inside the block the page never shows through, where red meets yellow too.
    const small = render(svgDocument(W, W, layers, palette), 19);
    for (let y = 2; y < 12; y++) for (let x = 2; x < 12; x++) expect(alphaAt(small, x, y), `(${x}, ${y}) at 19 px`).toBe(255);
  });

  it("stops a colour short of an upper colour's edge with a lower one, so that it cannot peek out there", () => {
    // Blue field; a red band; a yellow block on the red band's right, its other sides on the blue.
    const index = indexImage((x, y) => (y > 8 && y < 24 && x > 6 && x < 22 ? (x < 16 ? 1 : 2) : 0));
    expect(stackOrder(index, palette.length)).toEqual([0, 1, 2]);
    const layers = traceLayers(index, W, W, palette.length, 'smooth');
    const red = render(svgDocument(W, W, [layers.find((l) => l.colour === 1)!], palette), W);
    // Red runs on under the yellow where they meet and inside it ...
    expect(alphaAt(red, 16, 16)).toBe(255);
    expect(alphaAt(red, 18, 16)).toBe(255);
    // ... but not under the yellow's pixels on the blue (all covered before): its curve and the
    // yellow's would part there. Along the top, the red's rounded corner still reaches in a little.
    expect(alphaAt(red, 21, 16)).toBeLessThan(64);
    expect(alphaAt(red, 18, 8)).toBeLessThan(128);
  });

  it('keeps transparent holes open and draws nothing where nothing is', () => {
    const index = indexImage((x, y) => {
      const r = Math.hypot(x - 16, y - 16);
      return r < 5 || r >= 12 ? TRANSPARENT : 1;
    });
    const layers = traceLayers(index, W, W, palette.length, 'smooth');
    expect(layers).toHaveLength(1);
    expect(layers[0].subpaths).toBe(2);
    const image = render(svgDocument(W, W, layers, palette), W);
    expect(alphaAt(image, 16, 16)).toBe(0);
    expect(alphaAt(image, 0, 0)).toBe(0);
    expect(alphaAt(image, 24, 16)).toBe(255);
  });

  it('drops regions the curves shrink to slivers (one or two pixels), keeping real shapes', () => {
    const index = new Uint8Array(W * W);
    index[2 * W + 2] = 1;
    index[6 * W + 2] = 1;
    index[6 * W + 3] = 1;
    for (let y = 10; y < 14; y++) for (let x = 10; x < 14; x++) index[y * W + x] = 1;
    const smooth = traceLayers(index, W, W, palette.length, 'smooth');
    expect(smooth.find((l) => l.colour === 1)?.subpaths).toBe(1);
    // Pixel outlines keep every pixel: squares are not slivers.
    const exact = traceLayers(index, W, W, palette.length, 'exact');
    expect(exact.find((l) => l.colour === 1)?.subpaths).toBe(3);
  });
});

/** A path's subpaths as polygons (absolute M/L/Z only: what pixel outlines are made of). */
function polygons(d: string): { area: number; box: number[] }[] {
  return d
    .split('M')
    .filter((part) => part.length > 0)
    .map((part) => {
      const points = part
        .replace(/Z/g, '')
        .split('L')
        .map((pair) => pair.trim().split(/\s+/).map(Number));
      let area = 0;
      for (let i = 0; i < points.length; i++) {
        const [x0, y0] = points[i];
        const [x1, y1] = points[(i + 1) % points.length];
        area += x0 * y1 - x1 * y0;
      }
      const xs = points.map((p) => p[0]);
      const ys = points.map((p) => p[1]);
      return { area: Math.abs(area) / 2, box: [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)] };
    });
}

describe('traceLayers path data', () => {
  it('places pixel outlines on the pixels they outline, in image coordinates', () => {
    // Two regions far apart: each layer is traced in its bounding box, then moved back.
    const index = new Uint8Array(W * W).fill(TRANSPARENT);
    for (let y = 7; y < 10; y++) for (let x = 5; x < 7; x++) index[y * W + x] = 1;
    for (let x = 20; x < 24; x++) index[25 * W + x] = 1;
    index[30 * W + 30] = 2;
    const layers = traceLayers(index, W, W, palette.length, 'exact');
    expect(layers.map((l) => l.colour)).toEqual([1, 2]);
    expect(polygons(layers[0].d).sort((a, b) => a.area - b.area)).toEqual([
      { area: 4, box: [20, 25, 24, 26] },
      { area: 6, box: [5, 7, 7, 10] },
    ]);
    expect(polygons(layers[1].d)).toEqual([{ area: 1, box: [30, 30, 31, 31] }]);
    // Mean widths, area over the longer side: the 2x3 block 6/3, the 4x1 strip 4/4, a pixel 1/1.
    expect(layers[0].thinnest).toBe(1);
    expect(layers[1].thinnest).toBe(1);
    index.fill(TRANSPARENT);
    for (let y = 7; y < 10; y++) for (let x = 5; x < 7; x++) index[y * W + x] = 1;
    expect(traceLayers(index, W, W, palette.length, 'exact')[0].thinnest).toBe(2);
    expect(layers[0].d).toMatch(/^M[\d LZM]+$/);
  });
  it('stops at the first layer thinner than minWidth, which the caller rejects', () => {
    // Apart, on nothing: an 8x8 blue block, a one-pixel red line of 20 px, a 4x4 yellow block:
    // stacked blue, red, yellow.
    const index = new Uint8Array(W * W).fill(TRANSPARENT);
    for (let y = 2; y < 10; y++) for (let x = 2; x < 10; x++) index[y * W + x] = 0;
    for (let x = 4; x < 24; x++) index[14 * W + x] = 1;
    for (let y = 20; y < 24; y++) for (let x = 20; x < 24; x++) index[y * W + x] = 2;
    const all = traceLayers(index, W, W, palette.length, 'exact');
    expect(all.map((l) => [l.colour, l.thinnest])).toEqual([
      [0, 8],
      [1, 1],
      [2, 4],
    ]);
    expect(traceLayers(index, W, W, palette.length, 'exact', 1.5).map((l) => l.colour)).toEqual([0, 1]);
    expect(traceLayers(index, W, W, palette.length, 'exact', 1)).toEqual(all);
  });
});

describe('renderSvg', () => {
  it('returns straight (not premultiplied) RGBA, like the PNGs it is compared with', async () => {
    const { renderSvg } = await import('../../src/vector/render');
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="2" height="1"><rect width="2" height="1" fill="#ff8000" fill-opacity="0.5"/></svg>';
    expect(Array.from(renderSvg(svg, 2).data.subarray(0, 4))).toEqual([255, 128, 0, 128]);
    expect(Array.from(render(svg, 2).data.subarray(0, 4))).toEqual([255, 128, 0, 128]);
  });
});

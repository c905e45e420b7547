import { describe, expect, it } from 'vitest';
import { createRng, randomIconSpec, renderIcon, type IconSpec } from '../../src/icons';
import type { Image8 } from '../../src/image/image8';
import { imageToOklab } from '../../src/vector/oklab';
import { separateBackground } from '../../src/vector/separate';

const SIZE = 128;

/** Coverage of pixel (x, y) by a disc, by 8x8 supersampling: the reference alpha. */
function discCoverage(x: number, y: number, cx: number, cy: number, r: number): number {
  let inside = 0;
  for (let sy = 0; sy < 8; sy++) for (let sx = 0; sx < 8; sx++) if (Math.hypot(x + (sx + 0.5) / 8 - cx, y + (sy + 0.5) / 8 - cy) <= r) inside++;
  return inside / 64;
}

/** An image composited the way a renderer does: c = round(αF + (1 - α)B), per pixel background. */
function composite(size: number, coverage: (x: number, y: number) => number, icon: (x: number, y: number) => number[], background: (x: number, y: number) => number[]): { image: Image8; alpha: Float32Array } {
  const data = new Uint8Array(size * size * 3);
  const alpha = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const a = coverage(x, y);
      const f = icon(x, y);
      const b = background(x, y);
      alpha[y * size + x] = a;
      for (let c = 0; c < 3; c++) data[3 * (y * size + x) + c] = Math.round(a * f[c] + (1 - a) * b[c]);
    }
  }
  return { image: { width: size, height: size, channels: 3, data }, alpha };
}

function meanAlphaError(got: Float32Array, want: Float32Array): number {
  let e = 0;
  for (let p = 0; p < want.length; p++) e += Math.abs(got[p] - want[p]);
  return e / want.length;
}

describe('separateBackground', () => {
  it('recovers anti-aliased coverage and the icon colour on a gently shaded background', () => {
    // Background: a horizontal gradient from (40, 90, 200) to (70, 120, 220); icon: an orange disc.
    const { image, alpha } = composite(
      SIZE,
      (x, y) => discCoverage(x, y, 64, 60, 30),
      () => [240, 150, 40],
      (x) => [40 + (30 * x) / SIZE, 90 + (30 * x) / SIZE, 200 + (20 * x) / SIZE],
    );
    const s = separateBackground(image);
    expect(s.separated).toBe(true);
    expect(s.warning).toBeUndefined();
    // 8-bit rounding of a blend moves alpha by at most 0.5 / |F - B| (~0.003 here) per pixel.
    expect(meanAlphaError(s.alpha, alpha)).toBeLessThan(0.01);
    let worst = 0;
    for (let p = 0; p < alpha.length; p++) {
      if (alpha[p] < 0.25) continue;
      // Edge pixels are un-blended back to the icon's own colour.
      const d = s.image.data.subarray(4 * p, 4 * p + 3);
      worst = Math.max(worst, Math.abs(d[0] - 240), Math.abs(d[1] - 150), Math.abs(d[2] - 40));
    }
    expect(worst).toBeLessThanOrEqual(8);
    // Corners are background: transparent.
    expect(s.image.data[3]).toBe(0);
    expect(s.image.data[4 * (SIZE * SIZE - 1) + 3]).toBe(0);
  });

  it("matches the renderer's own coverage on generated-style icons, holes included", () => {
    const rng = createRng(11);
    let outlines = 0;
    for (let i = 0; i < 12; i++) {
      const spec: IconSpec = randomIconSpec(rng);
      // Shadows are drawn as part of the icon (opaque darker colour), which the mask leaves out.
      spec.style.shadow = false;
      const icon = renderIcon(spec, SIZE);
      const s = separateBackground({ width: SIZE, height: SIZE, channels: 3, data: icon.rgb });
      expect(s.separated, `${spec.shape} ${spec.style.fill}`).toBe(true);
      expect(meanAlphaError(s.alpha, icon.mask), `${spec.shape} ${spec.style.fill} ${spec.style.pattern}`).toBeLessThan(0.01);
      if (spec.style.fill === 'outline') {
        outlines++;
        // Inside an outline the background shows: it must come out transparent, not filled.
        let hole = 0;
        let holeTransparent = 0;
        for (let p = 0; p < icon.mask.length; p++) {
          if (icon.silhouette[p] === 1 && icon.mask[p] === 0) {
            hole++;
            if (s.image.data[4 * p + 3] === 0) holeTransparent++;
          }
        }
        expect(holeTransparent / hole).toBeGreaterThan(0.99);
      }
    }
    expect(outlines).toBeGreaterThan(0);
  });

  it('keeps a container the model drew (a circle behind the glyph) as part of the icon', () => {
    const bg = [245, 245, 240];
    const { image } = composite(
      SIZE,
      (x, y) => discCoverage(x, y, 64, 64, 50),
      (x, y) => (Math.abs(x + 0.5 - 64) < 14 && Math.abs(y + 0.5 - 64) < 14 ? [255, 255, 255] : [30, 100, 220]),
      () => bg,
    );
    const s = separateBackground(image);
    expect(s.separated).toBe(true);
    // The container is icon, all of it; outside it is background.
    expect(s.alpha[64 * SIZE + 20]).toBe(1);
    expect(s.alpha[64 * SIZE + 100]).toBe(1);
    expect(s.alpha[20 * SIZE + 64]).toBe(1);
    expect(s.alpha[5 * SIZE + 5]).toBe(0);
    // A glyph in the background's own colour reads as a cut-out: it shows through (documented).
    expect(s.alpha[64 * SIZE + 64]).toBeLessThan(0.1);
  });

  it("leaves the background's faint mottling around the icon transparent", () => {
    // Violet blotches, fainter than an icon colour and no blend of the icon's orange with the
    // background: one apart from the icon, one on its rim.
    const bg = [230, 222, 238];
    const pink = [214, 206, 250];
    const blotch = (x: number, y: number): number => Math.max(discCoverage(x, y, 104, 64, 6), discCoverage(x, y, 64, 33, 6));
    const { image, alpha } = composite(
      SIZE,
      (x, y) => discCoverage(x, y, 64, 64, 28),
      () => [240, 150, 40],
      (x, y) => bg.map((b, c) => b + blotch(x, y) * (pink[c] - b)),
    );
    const lab = imageToOklab(new Uint8Array([...bg, ...pink]), 3);
    const contrast = Math.hypot(lab[0] - lab[3], lab[1] - lab[4], lab[2] - lab[5]);
    // Faint: beyond the icon threshold on a flat background (0.03), short of an opaque icon colour (0.08).
    expect(contrast).toBeGreaterThan(0.04);
    expect(contrast).toBeLessThan(0.07);
    const s = separateBackground(image);
    expect(s.separated).toBe(true);
    let blotchPixels = 0;
    for (let p = 0; p < alpha.length; p++) {
      if (alpha[p] > 0 || blotch(p % SIZE, Math.floor(p / SIZE)) < 0.5) continue;
      blotchPixels++;
      expect(s.alpha[p], `pixel ${p % SIZE}, ${Math.floor(p / SIZE)}`).toBe(0);
    }
    expect(blotchPixels).toBeGreaterThan(100);
    expect(meanAlphaError(s.alpha, alpha)).toBeLessThan(0.01);
  });

  it('keeps the soft rim of a line too thin to have an opaque core', () => {
    // A disc with a 1.4 px antenna from (80, 48) to (110, 18): the line's rim pixels blend its middle.
    const along = (x: number, y: number): number => {
      const [ax, ay, bx, by] = [80, 48, 110, 18];
      const t = Math.min(1, Math.max(0, ((x - ax) * (bx - ax) + (y - ay) * (by - ay)) / ((bx - ax) ** 2 + (by - ay) ** 2)));
      return Math.hypot(x - ax - t * (bx - ax), y - ay - t * (by - ay));
    };
    const coverage = (x: number, y: number): number => {
      let inside = 0;
      for (let sy = 0; sy < 8; sy++) for (let sx = 0; sx < 8; sx++) if (along(x + (sx + 0.5) / 8, y + (sy + 0.5) / 8) <= 0.7) inside++;
      return Math.max(inside / 64, discCoverage(x, y, 60, 68, 28));
    };
    const { image, alpha } = composite(SIZE, coverage, () => [20, 40, 160], () => [250, 250, 250]);
    const s = separateBackground(image);
    expect(s.separated).toBe(true);
    // The antenna's pixels, away from the disc.
    const line = [...alpha.keys()].filter((p) => p % SIZE > 92 && Math.floor(p / SIZE) < 36);
    const sum = (a: Float32Array): number => line.reduce((t, p) => t + a[p], 0);
    expect(sum(s.alpha) / sum(alpha)).toBeGreaterThan(0.9);
    expect(sum(s.alpha) / sum(alpha)).toBeLessThan(1.1);
    expect(line.reduce((e, p) => e + Math.abs(s.alpha[p] - alpha[p]), 0) / line.length).toBeLessThan(0.02);
  });

  it('keeps the background, with a warning, when the icon touches the border', () => {
    const { image } = composite(SIZE, (x) => (x < 0.45 * SIZE ? 1 : 0), () => [200, 30, 30], () => [250, 250, 250]);
    const s = separateBackground(image);
    expect(s.separated).toBe(false);
    expect(s.warning).toMatch(/border/);
    expect(s.alpha.every((a) => a === 1)).toBe(true);
    for (let p = 0; p < SIZE * SIZE; p++) expect(Array.from(s.image.data.subarray(4 * p, 4 * p + 4))).toEqual([...image.data.subarray(3 * p, 3 * p + 3), 255]);
  });

  it('keeps a textured (photographic) background, with a warning', () => {
    const rng = createRng(3);
    const { image } = composite(
      SIZE,
      (x, y) => discCoverage(x, y, 64, 64, 30),
      () => [20, 20, 20],
      () => [128 + 120 * (rng.next() - 0.5), 128 + 120 * (rng.next() - 0.5), 128 + 120 * (rng.next() - 0.5)],
    );
    const s = separateBackground(image);
    expect(s.separated).toBe(false);
    expect(s.warning).toMatch(/textured/);
  });

  it('keeps a blank image, with a warning', () => {
    const { image } = composite(64, () => 0, () => [0, 0, 0], () => [90, 160, 90]);
    const s = separateBackground(image);
    expect(s.separated).toBe(false);
    expect(s.warning).toMatch(/no icon/);
  });
});

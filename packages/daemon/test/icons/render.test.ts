import { describe, expect, it } from 'vitest';
import {
  SHAPES,
  createRng,
  randomIconSpec,
  renderIcon,
  type IconSpec,
  type ShapeName,
  type Stroke,
} from '../../src/icons/index';

function plainSpec(
  shape: ShapeName,
  fill: 'filled' | 'outline' = 'filled',
  stroke: Stroke = 'medium',
): IconSpec {
  return {
    shape,
    scale: 0.75,
    offsetX: 0,
    offsetY: 0,
    style: {
      foreground: 'red',
      secondary: 'yellow',
      background: 'white',
      fill,
      stroke,
      pattern: 'solid',
      patternAngle: 0,
      patternPeriod: 0.3,
      rounded: 0,
      shadow: false,
    },
  };
}

function stats(mask: Float32Array, size: number) {
  let area = 0;
  let cx = 0;
  let cy = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const m = mask[y * size + x];
      area += m;
      cx += m * (x + 0.5);
      cy += m * (y + 0.5);
    }
  }
  return { fraction: area / (size * size), cx: cx / area / size, cy: cy / area / size };
}

describe('icon renderer', () => {
  it.each(SHAPES)('%s has a plausible, centred mask', (shape) => {
    const size = 64;
    const img = renderIcon(plainSpec(shape), size);
    const s = stats(img.mask, size);
    expect(s.fraction).toBeGreaterThan(0.08);
    expect(s.fraction).toBeLessThan(0.6);
    expect(Math.abs(s.cx - 0.5)).toBeLessThan(0.08);
    expect(Math.abs(s.cy - 0.5)).toBeLessThan(0.08);
    // Nothing touches the border.
    for (let i = 0; i < size; i++) {
      expect(img.mask[i]).toBe(0);
      expect(img.mask[(size - 1) * size + i]).toBe(0);
      expect(img.mask[i * size]).toBe(0);
      expect(img.mask[i * size + size - 1]).toBe(0);
    }
  });

  it('paints the mask in the foreground colour over the background', () => {
    const img = renderIcon(plainSpec('square'), 64);
    const centre = (32 * 64 + 32) * 3;
    expect([...img.rgb.subarray(centre, centre + 3)]).toEqual([214, 40, 40]);
    expect([...img.rgb.subarray(0, 3)]).toEqual([250, 250, 250]);
  });

  it('is deterministic in the seed', () => {
    const a = renderIcon(randomIconSpec(createRng(7)), 64);
    const b = renderIcon(randomIconSpec(createRng(7)), 64);
    const c = renderIcon(randomIconSpec(createRng(8)), 64);
    expect(Buffer.from(a.rgb).equals(Buffer.from(b.rgb))).toBe(true);
    expect(a.mask).toEqual(b.mask);
    expect(Buffer.from(a.rgb).equals(Buffer.from(c.rgb))).toBe(false);
  });

  it.each(SHAPES)('%s outline is a band inside the filled silhouette', (shape) => {
    const filled = renderIcon(plainSpec(shape, 'filled'), 64);
    const outline = renderIcon(plainSpec(shape, 'outline', 'thin'), 64);
    const fa = stats(filled.mask, 64).fraction;
    const oa = stats(outline.mask, 64).fraction;
    expect(oa).toBeLessThan(0.75 * fa);
    expect(oa).toBeGreaterThan(0.15 * fa);
    const thick = stats(renderIcon(plainSpec(shape, 'outline', 'thick'), 64).mask, 64).fraction;
    expect(thick).toBeGreaterThan(oa);
    expect(thick).toBeLessThanOrEqual(fa + 1e-6);
    expect(outline.silhouette).toEqual(filled.mask);
    for (let i = 0; i < outline.mask.length; i++) {
      expect(outline.mask[i]).toBeLessThanOrEqual(outline.silhouette[i] + 1e-6);
    }
  });

  it('keeps the mask area at larger sizes', () => {
    for (const shape of SHAPES) {
      const small = stats(renderIcon(plainSpec(shape), 64).mask, 64).fraction;
      const large = stats(renderIcon(plainSpec(shape), 128).mask, 128).fraction;
      expect(Math.abs(small - large)).toBeLessThan(0.02);
    }
  });

  it('varies the style a lot across random specs', () => {
    const rng = createRng(1);
    const seen = { fg: new Set<string>(), bg: new Set<string>(), pattern: new Set<string>() };
    let outlines = 0;
    let shadows = 0;
    for (let i = 0; i < 500; i++) {
      const { style } = randomIconSpec(rng);
      seen.fg.add(style.foreground);
      seen.bg.add(style.background);
      seen.pattern.add(style.pattern);
      if (style.fill === 'outline') outlines++;
      if (style.shadow) shadows++;
      expect(style.foreground).not.toBe(style.background);
    }
    expect(seen.fg.size).toBeGreaterThanOrEqual(12);
    expect(seen.bg.size).toBe(14);
    expect(seen.pattern.size).toBe(5);
    expect(outlines).toBeGreaterThan(100);
    expect(shadows).toBeGreaterThan(80);
  });
});

import { shapeSdf } from './shapes';
import { colorRgb, STROKES, type IconSpec, type IconStyle } from './spec';
import type { Sdf } from './sdf';
import type { Rgb } from './palette';

export interface IconImage {
  width: number;
  height: number;
  /** RGB8, row-major HWC. */
  rgb: Uint8Array;
  /** Coverage in [0, 1] of the painted foreground (the stroke for outlines); shadow excluded. */
  mask: Float32Array;
  /** Coverage in [0, 1] of the filled shape, whether painted filled or as an outline. */
  silhouette: Float32Array;
}

/** Shadow offset (right and down) and softness, in half-canvas units. */
const SHADOW_DX = 0.06;
const SHADOW_DY = -0.07;
const SHADOW_SOFTNESS = 0.05;
const SHADOW_ALPHA = 0.5;
const SHADOW_DARKEN = 0.55;

const clamp01 = (x: number): number => (x < 0 ? 0 : x > 1 ? 1 : x);
const fract = (x: number): number => x - Math.floor(x);

/** Coverage of a pixel by the region sdf < 0: a linear ramp one pixel wide across the edge. */
const coverage = (d: number, pixel: number): number => clamp01(0.5 - d / pixel);

function roundedSdf(sdf: Sdf, r: number): Sdf {
  if (r <= 0) return sdf;
  // Shrink, then grow by r: corners turn into arcs of radius r while the extent stays put.
  const k = 1 - r;
  return (x, y) => k * sdf(x / k, y / k) - r;
}

/**
 * Mix weight of the secondary colour at shape-local point (x, y); `pixel` is the pixel size in
 * the same units, so pattern edges are anti-aliased like shape edges.
 */
function patternWeight(style: IconStyle, x: number, y: number, pixel: number): number {
  const p = style.patternPeriod;
  switch (style.pattern) {
    case 'solid':
      return 0;
    case 'gradient': {
      const t = x * Math.cos(style.patternAngle) + y * Math.sin(style.patternAngle);
      return clamp01(0.5 + 0.5 * t);
    }
    case 'stripes': {
      const t = x * Math.cos(style.patternAngle) + y * Math.sin(style.patternAngle);
      return coverage((Math.abs(fract(t / p) - 0.5) - 0.25) * p, pixel);
    }
    case 'dots': {
      const cx = (fract(x / p) - 0.5) * p;
      const cy = (fract(y / p) - 0.5) * p;
      return coverage(Math.hypot(cx, cy) - 0.28 * p, pixel);
    }
    case 'checks': {
      const a = fract(x / p) - 0.5;
      const b = fract(y / p) - 0.5;
      const edge = Math.min(0.5 + (Math.min(Math.abs(a), Math.abs(b)) * p) / pixel, 1);
      return a * b > 0 ? edge : 1 - edge;
    }
  }
}

/** Renders an icon at size x size pixels, deterministic in the spec. */
export function renderIcon(spec: IconSpec, size = 64): IconImage {
  const { style } = spec;
  const sc = spec.scale;
  const local = roundedSdf(shapeSdf(spec.shape), style.rounded);
  const stroke = STROKES[style.stroke] * sc;
  const outline = style.fill === 'outline';
  // Distances in half-canvas units: the shape's local distance times its scale.
  const filledAt = (u: number, v: number): number =>
    sc * local((u - spec.offsetX) / sc, (v - spec.offsetY) / sc);
  // Inner stroke, so an outline's mask lies inside the filled silhouette.
  const painted = (dFill: number): number => (outline ? Math.max(dFill, -dFill - stroke) : dFill);

  const fg = colorRgb(style.foreground);
  const sec = colorRgb(style.secondary);
  const bg = colorRgb(style.background);
  const shade: Rgb = [bg[0] * SHADOW_DARKEN, bg[1] * SHADOW_DARKEN, bg[2] * SHADOW_DARKEN];

  const pixel = 2 / size;
  const rgb = new Uint8Array(size * size * 3);
  const mask = new Float32Array(size * size);
  const silhouette = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    const v = 1 - (y + 0.5) * pixel;
    for (let x = 0; x < size; x++) {
      const u = (x + 0.5) * pixel - 1;
      const i = y * size + x;
      const dFill = filledAt(u, v);
      const cov = coverage(painted(dFill), pixel);
      mask[i] = cov;
      silhouette[i] = coverage(dFill, pixel);

      let r = bg[0];
      let g = bg[1];
      let b = bg[2];
      if (style.shadow) {
        const ds = painted(filledAt(u - SHADOW_DX, v - SHADOW_DY));
        const a = SHADOW_ALPHA * coverage(ds, pixel + SHADOW_SOFTNESS);
        r += (shade[0] - r) * a;
        g += (shade[1] - g) * a;
        b += (shade[2] - b) * a;
      }
      if (cov > 0) {
        const w = patternWeight(
          style,
          (u - spec.offsetX) / sc,
          (v - spec.offsetY) / sc,
          pixel / sc,
        );
        r += (fg[0] + (sec[0] - fg[0]) * w - r) * cov;
        g += (fg[1] + (sec[1] - fg[1]) * w - g) * cov;
        b += (fg[2] + (sec[2] - fg[2]) * w - b) * cov;
      }
      rgb[3 * i] = Math.round(r);
      rgb[3 * i + 1] = Math.round(g);
      rgb[3 * i + 2] = Math.round(b);
    }
  }
  return { width: size, height: size, rgb, mask, silhouette };
}

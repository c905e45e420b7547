import { COLOR_NAMES, COLORS, distinct, type ColorName, type Rgb } from './palette';
import { chance, pick, pickWeighted, uniform, type Rng } from '../rng';
import { SHAPES, type ShapeName } from './shapes';

export const PATTERNS = ['solid', 'stripes', 'dots', 'checks', 'gradient'] as const;
export type Pattern = (typeof PATTERNS)[number];

/** Stroke widths (in shape units, where the shape spans about [-1, 1]) and their caption words. */
export const STROKES = { thin: 0.09, medium: 0.15, thick: 0.24 } as const;
export type Stroke = keyof typeof STROKES;

/** Everything about an icon except which shape it is: what a style-aligned set shares. */
export interface IconStyle {
  foreground: ColorName;
  /** Second colour of stripes, dots, checks and gradients. */
  secondary: ColorName;
  background: ColorName;
  fill: 'filled' | 'outline';
  stroke: Stroke;
  pattern: Pattern;
  /** Direction of stripes and gradients, radians. */
  patternAngle: number;
  /** Stripe / dot / check period in shape units. */
  patternPeriod: number;
  /** Corner radius in shape units; 0 for sharp corners. */
  rounded: number;
  shadow: boolean;
}

export interface IconSpec {
  shape: ShapeName;
  style: IconStyle;
  /** Half-size of the shape's [-1, 1] box as a fraction of the half-canvas. */
  scale: number;
  /** Centre offset as a fraction of the half-canvas, y up. */
  offsetX: number;
  offsetY: number;
}

export function colorRgb(name: ColorName): Rgb {
  return COLORS[name];
}

function pickDistinct(rng: Rng, from: readonly Rgb[]): ColorName {
  const candidates = COLOR_NAMES.filter((c) => from.every((o) => distinct(COLORS[c], o)));
  return pick(rng, candidates);
}

/**
 * A style drawn so that attributes vary a lot and independently: the model then has no
 * default look for a shape, and only shared attention makes a set agree.
 */
export function randomIconStyle(rng: Rng): IconStyle {
  const background = pick(rng, COLOR_NAMES);
  const foreground = pickDistinct(rng, [COLORS[background]]);
  // The secondary colour must also stand out from the background, or a pattern in it
  // cuts the shape into pieces.
  const secondary = pickDistinct(rng, [COLORS[foreground], COLORS[background]]);
  const fill = chance(rng, 0.65) ? 'filled' : 'outline';
  const stroke = pick(rng, ['thin', 'medium', 'thick'] as const);
  // Patterns need area to show, so thin outlines are mostly solid.
  const pattern: Pattern =
    fill === 'outline' && stroke !== 'thick'
      ? chance(rng, 0.8)
        ? 'solid'
        : 'gradient'
      : pickWeighted(rng, { solid: 3, stripes: 2, dots: 2, checks: 1, gradient: 2 });
  return {
    foreground,
    secondary,
    background,
    fill,
    stroke,
    pattern,
    patternAngle: (pick(rng, [0, 1, 2, 3]) * Math.PI) / 4 + uniform(rng, -0.15, 0.15),
    patternPeriod: uniform(rng, 0.22, 0.42),
    // Larger radii merge gear teeth and close the moon into a ring.
    rounded: chance(rng, 0.35) ? uniform(rng, 0.05, 0.12) : 0,
    shadow: chance(rng, 0.3),
  };
}

export function randomIconSpec(rng: Rng, shape?: ShapeName): IconSpec {
  return {
    shape: shape ?? pick(rng, SHAPES),
    style: randomIconStyle(rng),
    scale: uniform(rng, 0.62, 0.82),
    offsetX: uniform(rng, -0.04, 0.04),
    offsetY: uniform(rng, -0.04, 0.04),
  };
}

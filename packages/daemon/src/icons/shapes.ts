import {
  box,
  circle,
  heartBase,
  hexagon,
  polar,
  polygon,
  radialRepeat,
  scale,
  starPoints,
  subtract,
  translate,
  union,
  unevenCapsule,
  type Sdf,
} from './sdf';

/** Shape names; each is also a caption word. */
export const SHAPES = [
  'circle',
  'square',
  'triangle',
  'star',
  'heart',
  'moon',
  'house',
  'drop',
  'bolt',
  'cloud',
  'arrow',
  'gear',
  'diamond',
  'cross',
  'hexagon',
  'flower',
] as const;

export type ShapeName = (typeof SHAPES)[number];

/**
 * Every shape fits the unit disc-ish box [-1, 1]^2 with its area centroid near the origin,
 * so the evaluation can compare masks of different styles of one shape directly.
 */
const SHAPE_SDFS: Record<ShapeName, Sdf> = {
  circle: circle(0, 0, 0.9),
  square: box(0, 0, 0.78, 0.78),
  triangle: polygon([0, 0.95, -0.98, -0.72, 0.98, -0.72]),
  star: polygon(starPoints(5, 1.0, 0.42, -0.05)),
  heart: scale(translate(heartBase, 0, -0.62), 1.55),
  moon: translate(subtract(circle(0, 0, 0.9), circle(0.42, 0.22, 0.72)), 0.3, 0),
  house: subtract(
    union(
      polygon([-0.8, -0.85, 0.8, -0.85, 0.8, 0.15, 0, 0.9, -0.8, 0.15]),
      box(0.5, 0.5, 0.11, 0.32),
    ),
    box(0, -0.55, 0.17, 0.3),
  ),
  drop: translate(unevenCapsule(0.62, 0.04, 1.3), 0, -0.33),
  bolt: polygon([0.32, 1, -0.66, -0.18, -0.04, -0.18, -0.32, -1, 0.66, 0.18, 0.04, 0.18]),
  cloud: translate(
    union(
      circle(-0.48, -0.1, 0.38),
      circle(0.05, 0.16, 0.55),
      circle(0.52, -0.12, 0.36),
      box(0, -0.3, 0.58, 0.18),
    ),
    0,
    0.08,
  ),
  arrow: polygon([-0.92, 0.24, 0.1, 0.24, 0.1, 0.66, 0.95, 0, 0.1, -0.66, 0.1, -0.24, -0.92, -0.24]),
  gear: subtract(union(circle(0, 0, 0.7), radialRepeat(box(0.8, 0, 0.15, 0.14), 8)), circle(0, 0, 0.3)),
  diamond: polygon([0, 1, 0.72, 0, 0, -1, -0.72, 0]),
  cross: union(box(0, 0, 0.85, 0.26), box(0, 0, 0.26, 0.85)),
  hexagon: hexagon(0.85),
  flower: polar((a) => 0.68 + 0.27 * Math.cos(5 * (a - Math.PI / 2)), 1.5),
};

export function shapeSdf(shape: ShapeName): Sdf {
  return SHAPE_SDFS[shape];
}

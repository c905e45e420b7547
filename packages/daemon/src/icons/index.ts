export { createRng, type Rng } from '../rng';
export { COLORS, COLOR_NAMES, type ColorName, type Rgb } from './palette';
export { SHAPES, type ShapeName } from './shapes';
export {
  PATTERNS,
  STROKES,
  colorRgb,
  randomIconSpec,
  randomIconStyle,
  type IconSpec,
  type IconStyle,
  type Pattern,
  type Stroke,
} from './spec';
export { renderIcon, type IconImage } from './render';

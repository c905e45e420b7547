/**
 * Vector output and transparent backgrounds for generated sets: background separation,
 * one palette per set, tracing to SVG. The one entry point of `vector/`.
 */
export {
  ORIGINAL_BOUND,
  preloadVectorLibraries,
  vectoriseSet,
  type BackgroundMode,
  type PaletteScope,
  type VectorImage,
  type VectorOptions,
  type VectorSet,
  type VectorStats,
} from './vectorise';
export { lanesReady } from './lanes';
export { meanAbsoluteError } from './compare';
export { renderSvg } from './render';
export type { PaletteColour } from './palette';

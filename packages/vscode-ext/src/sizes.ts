import { resultFormatOf } from './formats';
import type { PlannedImage } from './plan';
import type { SizeHint } from './references';
import type { SizedSet } from './runner';

export interface Size {
  width: number;
  height: number;
}

/** What the daemon accepts (its `welcome` limits): sides in pixels, each a multiple of the model's downscale. */
export interface SizeLimits {
  min: number;
  max: number;
  multipleOf: number;
}

/**
 * The size to generate an image at: the size its reference shows it at, rounded to the nearest
 * size the model can make; a side the reference leaves out keeps the fallback's aspect ratio; no
 * size at all is the fallback (the settings, else the model's native size). The browser scales
 * the few pixels of rounding away, as it does for any image.
 */
export function generationSize(hint: SizeHint | undefined, fallback: Size, limits: SizeLimits): Size {
  const width = hint?.width ?? (hint?.height === undefined ? fallback.width : (hint.height * fallback.width) / fallback.height);
  const height = hint?.height ?? (hint?.width === undefined ? fallback.height : (hint.width * fallback.height) / fallback.width);
  return { width: roundSide(width, limits), height: roundSide(height, limits) };
}

/** The nearest multiple of the model's step within the limits. */
export function roundSide(pixels: number, limits: SizeLimits): number {
  const { min, max, multipleOf } = limits;
  const rounded = Math.round(pixels / multipleOf) * multipleOf;
  const lowest = Math.ceil(min / multipleOf) * multipleOf;
  const highest = Math.floor(max / multipleOf) * multipleOf;
  return Math.min(highest, Math.max(lowest, rounded));
}

/** One set per size, in the order the sizes first appear, each keeping the images' order. */
export function groupBySize(images: readonly PlannedImage[], sizeOf: (image: PlannedImage) => Size): SizedSet[] {
  const sets = new Map<string, SizedSet>();
  for (const image of images) {
    const { width, height } = sizeOf(image);
    const key = `${width}x${height}`;
    let set = sets.get(key);
    if (set === undefined) {
      set = { width, height, images: [] };
      sets.set(key, set);
    }
    set.images.push({ prompt: image.prompt, target: image.target, result: resultFormatOf(image.format) });
  }
  return [...sets.values()];
}

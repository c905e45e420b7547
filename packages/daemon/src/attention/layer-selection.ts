/**
 * `only_self_level`: which self-attention layers share, as the method doc defines it (the
 * reference implementation's switch vector, whose true entries stay plain).
 */
import { InputError } from '../errors';

/** One entry per self-attention layer in U-Net order (down, up, then mid blocks: see find-layers.ts): true where the layer shares. */
export function selectSharedLayers(layerCount: number, onlySelfLevel: number): boolean[] {
  if (!Number.isInteger(layerCount) || layerCount < 0) throw new RangeError(`layer count must be a non-negative integer, got ${layerCount}`);
  if (!(onlySelfLevel >= 0 && onlySelfLevel <= 1)) {
    throw new InputError(`onlySelfLevel must be between 0 and 1, got ${onlySelfLevel}`);
  }
  if (onlySelfLevel === 0) return new Array<boolean>(layerCount).fill(true);
  if (onlySelfLevel === 1) return new Array<boolean>(layerCount).fill(false);
  const flip = onlySelfLevel > 0.5;
  // Same double arithmetic as the reference's `1 - level` and `int(level * L)`.
  const flagCount = Math.floor((flip ? 1 - onlySelfLevel : onlySelfLevel) * layerCount);
  // The reference divides by zero when fewer than one layer would be flagged; flagging none
  // continues both ends of the scale (all shared near 0, none near 1).
  const period = flagCount > 0 ? Math.floor(layerCount / flagCount) : 0;
  return Array.from({ length: layerCount }, (_, j) => {
    const flagged = period > 0 && j % period === 0;
    return flip ? flagged : !flagged;
  });
}

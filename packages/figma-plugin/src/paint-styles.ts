import type { VectorSummary } from '@styleset/protocol';

/**
 * At most this many paint styles per set. A flat icon set has a handful of colours; a noisy one
 * can reach the vectoriser's 128, and a style panel of 128 near-identical swatches is of no use to
 * a designer, so only the colours that carry the most of the set become styles.
 */
export const MAX_PAINT_STYLES = 16;

/**
 * The colours of a set's SVGs that become paint styles, and how many colours there were. The
 * daemon lists each palette's colours by the share of the image they fill, commonest first, so
 * the first ones of the set's palette are the ones that matter.
 */
export function paintStyleColors(vector: VectorSummary | undefined): { colors: string[]; total: number } {
  const all = [...new Set(vector?.palettes.flatMap((palette) => palette.colors) ?? [])];
  return { colors: all.slice(0, MAX_PAINT_STYLES), total: all.length };
}

import type { Image8 } from '../image/image8';
import { deltaE, type Lab } from './color';
import { featureSimilarity, glyphFeature } from './glyph-features';
import { erode, maskArea, type Mask } from './mask';
import type { ContainerKind, IconParts } from './separate';

/** Levels per RGB channel of the coarse colour histogram: 4^3 = 64 bins. */
export const HISTOGRAM_LEVELS = 4;

/** Share of the image's pixels in each of the 64 coarse RGB bins (sums to 1). */
export function colorHistogram(image: Image8, levels = HISTOGRAM_LEVELS): Float64Array {
  const hist = new Float64Array(levels ** 3);
  const n = image.width * image.height;
  const bin = (v: number) => Math.min(levels - 1, Math.floor((v * levels) / 256));
  for (let p = 0; p < n; p++) {
    const o = p * image.channels;
    hist[(bin(image.data[o]) * levels + bin(image.data[o + 1])) * levels + bin(image.data[o + 2])]++;
  }
  for (let i = 0; i < hist.length; i++) hist[i] /= n;
  return hist;
}

/** Total variation distance of two histograms: 0 identical, 1 no colour in common. */
export function histogramDistance(a: Float64Array, b: Float64Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += Math.abs(a[i] - b[i]);
  return d / 2;
}

/**
 * Stroke weight of a glyph: twice its area over its edge length. For a stroke of width w that is
 * w (area w·L, two edges of length L); a filled shape scores its thickness, far above any stroke.
 */
export function strokeWidth(glyph: Mask): number {
  const area = maskArea(glyph);
  const edge = area - maskArea(erode(glyph));
  return edge > 0 ? (2 * area) / edge : 0;
}

/** What the consistency metrics read from one image. */
export interface ImageStyle {
  histogram: Float64Array;
  background: Lab;
  container: ContainerKind;
  glyphColor?: Lab;
  strokeWidth: number;
  /** The glyph's shape feature, for content variety within a set. */
  shape?: Float32Array;
}

export function imageStyle(image: Image8, parts: IconParts): ImageStyle {
  return {
    histogram: colorHistogram(image),
    background: parts.background.center,
    container: parts.container.kind,
    glyphColor: parts.glyphColor,
    strokeWidth: strokeWidth(parts.glyph),
    shape: glyphFeature(parts.glyph),
  };
}

/** How alike a set's images are; each number is a mean over every pair of images. */
export interface SetConsistency {
  /** Colour-histogram spread: mean total variation distance, 0 (same colours) .. 1. */
  spread: number;
  /** Mean ΔE between background colours (image centre of the fitted background). */
  backgroundDeltaE: number;
  /** Share of pairs with the same container (none, circle, rounded square). */
  containerAgreement: number;
  /** Mean ΔE between glyph colours, over pairs where both have a glyph. */
  glyphDeltaE: number;
  /** Mean min/max ratio of stroke widths: 1 for the same weight. */
  strokeAgreement: number;
  /**
   * Content variety: mean shape similarity of the glyphs (the content measure's cosine). Sets that
   * collapse onto one shape score near 1; different icons of one family far lower.
   */
  shapeSimilarity: number;
}

const mean = (xs: number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

export function setConsistency(images: readonly ImageStyle[]): SetConsistency {
  if (images.length < 2) throw new Error(`a set needs at least 2 images to measure consistency, got ${images.length}`);
  const pairs: [ImageStyle, ImageStyle][] = [];
  for (let i = 0; i < images.length; i++) for (let j = i + 1; j < images.length; j++) pairs.push([images[i], images[j]]);
  const colored = pairs.filter(([a, b]) => a.glyphColor && b.glyphColor);
  return {
    spread: mean(pairs.map(([a, b]) => histogramDistance(a.histogram, b.histogram))),
    backgroundDeltaE: mean(pairs.map(([a, b]) => deltaE(a.background, b.background))),
    containerAgreement: mean(pairs.map(([a, b]) => (a.container === b.container ? 1 : 0))),
    glyphDeltaE: mean(colored.map(([a, b]) => deltaE(a.glyphColor!, b.glyphColor!))),
    strokeAgreement: mean(pairs.map(([a, b]) => (Math.max(a.strokeWidth, b.strokeWidth) > 0 ? Math.min(a.strokeWidth, b.strokeWidth) / Math.max(a.strokeWidth, b.strokeWidth) : 1))),
    shapeSimilarity: mean(pairs.map(([a, b]) => featureSimilarity(a.shape, b.shape))),
  };
}

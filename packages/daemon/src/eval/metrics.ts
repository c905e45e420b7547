import type { Image8 } from '../image/image8';
import type { ShapeName } from '../icons/shapes';
import { segment } from './segment';
import { matchShape } from './shape-match';
import { STYLE_PARTS, describeStyle, styleSimilarity, type StyleDescriptor, type StylePart } from './style';

/** An image and the shape its prompt (or its renderer spec) asked for. */
export interface ShapedImage {
  image: Image8;
  shape: ShapeName;
}

export interface ImageAnalysis {
  shape: ShapeName;
  /** Best-matching renderer shape; undefined when nothing stands out from the background. */
  predicted?: ShapeName;
  /** Normalised IoU of the silhouette with the asked-for shape. */
  iou: number;
  style: StyleDescriptor;
}

export function analyzeImage({ image, shape }: ShapedImage): ImageAnalysis {
  const seg = segment(image);
  const match = matchShape(seg.silhouette);
  return { shape, predicted: match.predicted, iou: match.iou[shape], style: describeStyle(seg) };
}

/** Per-set numbers; each is a mean over the set's images or image pairs, in [0, 1]. */
export interface SetScores {
  /** Content fidelity: images classified as the shape their prompt asked for. */
  accuracy: number;
  /** Content fidelity: normalised IoU with the asked-for shape. */
  iou: number;
  /** Set consistency: style similarity over every pair of images in the set. */
  consistency: number;
  /** The same mean for each part of the similarity, to see what a set shares. */
  consistencyParts: Record<StylePart, number>;
  /** Style similarity of each image to the set's reference. */
  referenceSimilarity: number;
  /** Content leakage: images classified as the reference's shape instead of their own. */
  leakage: number;
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Scores a set. Without `reference` the first image is the set's reference (StyleAligned shares
 * from it; for plain generation it is just the first image), and reference similarity and leakage
 * are measured on the others; with `reference` (the reference-image path, where the reference is
 * an input, not an output) they are measured on every image.
 */
export function scoreSet(images: readonly ImageAnalysis[], reference?: ImageAnalysis): SetScores {
  if (images.length < 2) throw new Error(`a set needs at least 2 images to measure consistency, got ${images.length}`);
  const pairs = [];
  for (let i = 0; i < images.length; i++) {
    for (let j = i + 1; j < images.length; j++) pairs.push(styleSimilarity(images[i].style, images[j].style));
  }
  const consistencyParts = {} as Record<StylePart, number>;
  for (const part of STYLE_PARTS) consistencyParts[part] = mean(pairs.map((p) => p[part]));
  const ref = reference ?? images[0];
  const followers = reference ? images : images.slice(1);
  return {
    accuracy: mean(images.map((a) => (a.predicted === a.shape ? 1 : 0))),
    iou: mean(images.map((a) => a.iou)),
    consistency: mean(pairs.map((p) => p.total)),
    consistencyParts,
    referenceSimilarity: mean(followers.map((a) => styleSimilarity(ref.style, a.style).total)),
    leakage: mean(followers.map((a) => (a.shape !== ref.shape && a.predicted === ref.shape ? 1 : 0))),
  };
}

import type { Image8 } from '../image/image8';
import { deltaE, imageLab, type Lab } from './color';
import { dilate, erode, fillHoles, largestComponent, type Mask } from './mask';

/**
 * ΔE76 from the background above which a pixel is foreground. The renderer's palette keeps every
 * foreground/background pair at least 39 apart (orange on red), while its drop shadow darkens the
 * background by at most 23 (on yellow): 30 keeps the shape and drops the shadow.
 */
export const FOREGROUND_DELTA_E = 30;

/** Width of the border ring the background colour is estimated from, in pixels. */
const BORDER = 2;

export interface Segmentation {
  width: number;
  height: number;
  /** Every pixel in L*a*b* (triples), for the style statistics. */
  lab: Float32Array;
  /** Per-channel median of the border ring: icons are centred, so the border is background. */
  background: Lab;
  /**
   * The icon's outline whether drawn filled or as an outline: pixels that differ from the
   * background, closed by one pixel (anti-aliased seams between stripes or checks would cut a
   * shape apart), reduced to the largest connected region, with enclosed background filled in.
   */
  silhouette: Mask;
  /** Pixels within the silhouette that differ from the background: the painted fill or stroke. */
  painted: Mask;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function borderBackground(lab: Float32Array, width: number, height: number): Lab {
  const channels: number[][] = [[], [], []];
  const band = Math.min(BORDER, Math.floor(Math.min(width, height) / 2));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const ring = x < band || y < band || x >= width - band || y >= height - band;
      if (!ring) continue;
      const p = y * width + x;
      for (let c = 0; c < 3; c++) channels[c].push(lab[3 * p + c]);
    }
  }
  return [median(channels[0]), median(channels[1]), median(channels[2])];
}

/** Foreground/background split of an icon on a plain background. */
export function segment(image: Image8): Segmentation {
  const { width, height } = image;
  const lab = imageLab(image.data, image.channels);
  const background = borderBackground(lab, width, height);
  const differs = new Uint8Array(width * height);
  for (let p = 0; p < width * height; p++) {
    differs[p] = deltaE(background, [lab[3 * p], lab[3 * p + 1], lab[3 * p + 2]]) > FOREGROUND_DELTA_E ? 1 : 0;
  }
  const silhouette = fillHoles(largestComponent(erode(dilate({ width, height, data: differs }))));
  const painted = differs.map((v, p) => v & silhouette.data[p]);
  return { width, height, lab, background, painted: { width, height, data: painted }, silhouette };
}

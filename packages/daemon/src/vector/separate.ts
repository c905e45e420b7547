import { flood8 } from '../connected';
import type { Image8 } from '../image/image8';
import { backgroundField, fitBorderModel, INLIER_DEVIATIONS, type BorderModel } from './border-model';
import { imageToOklab, linearToSrgb, oklabToLinearRgb } from './oklab';

/**
 * Separating an icon from the background the model drew around it.
 *
 * The background is the smooth colour field of `fitBorderModel`. A pixel further from it (in
 * OKLab) than the background's own noise allows is icon. Icon pixels whose neighbours are all
 * icon too are opaque ("core"); the others lie on the icon's edge, where the model drew a blend
 * of icon and background. Each edge pixel is un-blended against the background and the core
 * colour next to it that explains it best: C = αF + (1 - α)B, solved for α in sRGB, the space
 * in which viewers composite the result again; lines too thin to have a core blend with their
 * own strongest pixels. A faint pixel (less than `OPAQUE_MARGIN` beyond the threshold) that no
 * icon colour nearby explains is the background's own mottling, which a model draws around its
 * icons, and is background; parts left smaller than a speck go with it. Background-coloured
 * pixels inside the icon are background too, so holes come out transparent; a container the
 * model drew (a circle, a rounded square) differs from the background and stays part of the icon.
 */

export interface Separation {
  /**
   * RGBA: icon pixels in the icon's own (un-blended) colour with anti-aliased alpha, background
   * transparent (0, 0, 0, 0). When the image cannot be separated, the input as it was, opaque.
   */
  image: Image8;
  /** Coverage per pixel in [0, 1] (all 1 when not separated). */
  alpha: Float32Array;
  separated: boolean;
  /** Why the background was kept, when it was. */
  warning?: string;
  /** The fitted background (also when separation failed: it says why). */
  background: BorderModel;
}

/** Icon must differ from the background by at least this much (OKLab), however clean the background. */
const MIN_CONTRAST = 0.03;
/** An icon pixel at least this far beyond the threshold is opaque unless it sits on the icon's edge. */
const OPAQUE_MARGIN = 0.05;
/** The border ring must be mostly background: below this share, the icon (or a texture) touches it. */
const MIN_BORDER_INLIERS = 0.6;
/** Background noise (OKLab, per component) above which it is texture, not a flat or shaded fill. */
const MAX_BACKGROUND_NOISE = 0.04;
/** The icon must cover more than this share of the image, and less than `MAX_ICON_SHARE`. */
const MIN_ICON_SHARE = 0.002;
const MAX_ICON_SHARE = 0.92;
/**
 * Most of an icon is solid, its soft rim one or two pixels wide: drawn icons measure 0.55 to
 * 0.95 opaque (of the pixels they touch), a shaded photograph's "icon" (whatever differs from
 * the border's colours) about 0.1.
 */
const MIN_OPAQUE_SHARE = 0.35;
/** How far (pixels) an edge pixel looks for the icon colour it blends. */
const SEARCH_RADIUS = 2;
/**
 * An edge pixel is a blend of one icon colour and the background only if that explains it to
 * within this distance (sRGB code values); otherwise it blends two icon colours and is opaque.
 */
const UNBLEND_TOLERANCE = 24;
/**
 * Icon parts smaller than this share of the image (4 px at 64 px, 16 at 128), apart from the
 * rest, are specks of noise the model left in the background, not details of the icon.
 */
const SPECK_SHARE = 1 / 1024;

function kept(image: Image8, background: BorderModel, warning: string): Separation {
  const n = image.width * image.height;
  const data = new Uint8Array(n * 4);
  for (let p = 0; p < n; p++) {
    for (let c = 0; c < 3; c++) data[4 * p + c] = image.data[p * image.channels + c];
    data[4 * p + 3] = 255;
  }
  return {
    image: { width: image.width, height: image.height, channels: 4, data },
    alpha: new Float32Array(n).fill(1),
    separated: false,
    warning,
    background,
  };
}

/**
 * The background field at pixel `p` in sRGB code values (clamped floats), for un-blending:
 * asked for edge pixels only, a small share of the image.
 */
function backgroundSrgb(field: Float32Array, p: number, out: Float64Array): void {
  const linear = oklabToLinearRgb([field[3 * p], field[3 * p + 1], field[3 * p + 2]]);
  for (let c = 0; c < 3; c++) out[c] = Math.min(255, Math.max(0, linearToSrgb(Math.max(0, linear[c]))));
}

/** Drops 8-connected components of `mask` smaller than `minArea`. */
function dropSpecks(mask: Uint8Array, width: number, height: number, minArea: number): void {
  const seen = new Uint8Array(mask.length);
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || seen[start]) continue;
    seen[start] = 1;
    const members = [start];
    flood8(width, height, [start], (j) => {
      if (!mask[j] || seen[j]) return false;
      seen[j] = 1;
      members.push(j);
      return true;
    });
    if (members.length < minArea) for (const i of members) mask[i] = 0;
  }
}

/** Splits an RGB(A) image into the icon with alpha and its background; never throws on content. */
export function separateBackground(image: Image8): Separation {
  const { width, height, channels } = image;
  const n = width * height;
  const lab = imageToOklab(image.data, channels);
  const background = fitBorderModel(lab, width, height);
  if (background.inlierShare < MIN_BORDER_INLIERS) {
    const share = Math.round(100 * (1 - background.inlierShare));
    return kept(image, background, `the background could not be found: ${share}% of the border ring is not one smooth colour (the icon touches the border, or the background is a pattern)`);
  }
  if (background.noise > MAX_BACKGROUND_NOISE) {
    return kept(image, background, `the background is textured (noise ${background.noise.toFixed(3)} in OKLab, more than ${MAX_BACKGROUND_NOISE}), so the icon cannot be told apart from it`);
  }

  const field = backgroundField(background);
  const threshold = Math.max(MIN_CONTRAST, INLIER_DEVIATIONS * background.noise);
  const opaque = threshold + OPAQUE_MARGIN;
  const distance = new Float32Array(n);
  const icon = new Uint8Array(n);
  for (let p = 0; p < n; p++) {
    const dl = lab[3 * p] - field[3 * p];
    const da = lab[3 * p + 1] - field[3 * p + 1];
    const db = lab[3 * p + 2] - field[3 * p + 2];
    const d = Math.sqrt(dl * dl + da * da + db * db);
    distance[p] = d;
    icon[p] = d > threshold ? 1 : 0;
  }
  const minArea = Math.max(2, Math.round(n * SPECK_SHARE));
  dropSpecks(icon, width, height, minArea);

  const core = new Uint8Array(n);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      if (!icon[p] || distance[p] < opaque) continue;
      // Off-image neighbours count as inside: an icon cut by the image edge is not blended there.
      let inside = true;
      for (let ny = Math.max(0, y - 1); inside && ny <= Math.min(height - 1, y + 1); ny++) {
        for (let nx = Math.max(0, x - 1); nx <= Math.min(width - 1, x + 1); nx++) {
          if (!icon[ny * width + nx]) {
            inside = false;
            break;
          }
        }
      }
      core[p] = inside ? 1 : 0;
    }
  }

  const backgroundRgb = new Float64Array(3);
  const alpha = new Float32Array(n);
  const data = new Uint8Array(n * 4);
  const colour = new Float64Array(3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      if (!icon[p]) continue;
      const src = p * channels;
      for (let c = 0; c < 3; c++) colour[c] = image.data[src + c];
      let a = 1;
      if (!core[p]) {
        a = NaN;
        // A core colour explains an edge pixel best; where none does, a stronger pixel outside
        // the core may (the middle of a line too thin to have a core).
        // Squared residuals (sRGB code values²).
        let best = UNBLEND_TOLERANCE ** 2;
        let bestSource = -1;
        let bestRank = 1;
        backgroundSrgb(field, p, backgroundRgb);
        const b0 = backgroundRgb[0];
        const b1 = backgroundRgb[1];
        const b2 = backgroundRgb[2];
        const c0 = colour[0] - b0;
        const c1 = colour[1] - b1;
        const c2 = colour[2] - b2;
        for (let dy = -SEARCH_RADIUS; dy <= SEARCH_RADIUS; dy++) {
          for (let dx = -SEARCH_RADIUS; dx <= SEARCH_RADIUS; dx++) {
            const nx = x + dx;
            const ny = y + dy;
            if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
            const q = ny * width + nx;
            const rank = core[q] ? 0 : icon[q] && distance[q] >= opaque && distance[q] > distance[p] ? 1 : 2;
            if (rank > bestRank) continue;
            const f0 = image.data[q * channels] - b0;
            const f1 = image.data[q * channels + 1] - b1;
            const f2 = image.data[q * channels + 2] - b2;
            const ff = f0 * f0 + f1 * f1 + f2 * f2;
            if (ff < 1) continue;
            const t = Math.min(1, Math.max(0, (c0 * f0 + c1 * f1 + c2 * f2) / ff));
            const r0 = c0 - t * f0;
            const r1 = c1 - t * f1;
            const r2 = c2 - t * f2;
            const residual = r0 * r0 + r1 * r1 + r2 * r2;
            if (residual < best || (rank < bestRank && residual < UNBLEND_TOLERANCE ** 2)) {
              best = residual;
              bestSource = q;
              bestRank = rank;
              a = t;
            }
          }
        }
        if (bestSource >= 0) {
          for (let c = 0; c < 3; c++) colour[c] = image.data[bestSource * channels + c];
        } else if (distance[p] < opaque) {
          // Faint, and no blend of an icon colour: the background's mottling.
          a = 0;
        } else {
          a = 1;
        }
      }
      const a8 = Math.round(a * 255);
      // Coverage the PNG cannot show is none.
      alpha[p] = a8 === 0 ? 0 : a;
      if (a8 === 0) continue;
      for (let c = 0; c < 3; c++) data[4 * p + c] = Math.round(colour[c]);
      data[4 * p + 3] = a8;
    }
  }

  // Mottling turned transparent can leave specks of the icon mask on their own.
  const drawn = new Uint8Array(n);
  for (let p = 0; p < n; p++) drawn[p] = alpha[p] > 0 ? 1 : 0;
  dropSpecks(drawn, width, height, minArea);
  for (let p = 0; p < n; p++) {
    if (drawn[p] || alpha[p] === 0) continue;
    alpha[p] = 0;
    data.fill(0, 4 * p, 4 * p + 4);
  }

  let coverage = 0;
  let touched = 0;
  let opaquePixels = 0;
  for (let p = 0; p < n; p++) {
    coverage += alpha[p];
    if (alpha[p] > 0) touched++;
    if (alpha[p] >= 1) opaquePixels++;
  }
  if (coverage < MIN_ICON_SHARE * n) {
    return kept(image, background, 'no icon was found: nothing in the image stands out from the background');
  }
  if (coverage > MAX_ICON_SHARE * n) {
    return kept(image, background, `the icon covers ${Math.round((100 * coverage) / n)}% of the image, so there is no background to remove`);
  }
  if (opaquePixels < MIN_OPAQUE_SHARE * touched) {
    return kept(image, background, `what differs from the background is shaded throughout (${Math.round((100 * opaquePixels) / touched)}% solid), like a photograph, not an icon on a background`);
  }
  return { image: { width, height, channels: 4, data }, alpha, separated: true, background };
}

import type { Image8 } from '../image/image8';
import { median } from '../median';
import { deltaE, imageLab, type Lab } from './color';
import { erode, fillHoles, largestComponent, maskArea, maskBounds, type Mask } from './mask';

/**
 * ΔE76 from the surface behind it above which a pixel belongs to what is drawn on it. The model's
 * training styles keep a glyph at least 45 from its surface and a container at least 25 from the
 * background; a drop shadow darkens what it falls on by at most 35%, about ΔE 30 on white, so 32
 * keeps glyphs and drops most of a shadow.
 */
export const FOREGROUND_DELTA_E = 32;

/** A container must cover this share of the image: glyphs alone rarely do (a filled glyph can). */
const CONTAINER_MIN_AREA = 0.25;
/** ...and be mostly one colour: the share of its pixels within CONTAINER_DELTA_E of its median. */
const CONTAINER_MIN_UNIFORM = 0.45;
const CONTAINER_DELTA_E = 14;
/**
 * Area / bounding-box area tells a circle (π/4 ≈ 0.79) from a rounded square (the training styles'
 * corner radii give 0.92-0.97).
 */
const CIRCLE_MAX_FILL = 0.86;
/**
 * Containers are convex and as wide as tall; a big filled glyph (a heart, a star) is not. A circle
 * fills π/4 of its bounding box, so anything emptier is a glyph.
 */
const CONTAINER_MIN_FILL = 0.74;
const CONTAINER_MAX_ASPECT = 1.2;
/** A container holds a glyph: at least this share of its area differs from its colour. */
const CONTAINER_MIN_GLYPH = 0.01;
/** Pixels of the container's rim left out of the glyph search: anti-aliasing blends it with the background. */
const CONTAINER_RIM = 3;
/** Width of the border ring the background is fitted to, as a share of the image side. */
const BORDER_SHARE = 0.025;

export type ContainerKind = 'none' | 'circle' | 'rounded square';

/** The background as a plane in L*a*b* over the image: exact for solid fills and linear gradients. */
export interface BackgroundPlane {
  /** Colour at the image centre. */
  center: Lab;
  /** Change per image width along x and y, per channel. */
  dx: Lab;
  dy: Lab;
}

export interface IconParts {
  width: number;
  height: number;
  /** Every pixel in L*a*b* (triples). */
  lab: Float32Array;
  background: BackgroundPlane;
  container: { kind: ContainerKind; color?: Lab; mask?: Mask };
  /** The glyph's pixels: what differs from the surface it is drawn on (the container or the background). */
  glyph: Mask;
  /** Median colour of the glyph's inner pixels; undefined when there is no glyph. */
  glyphColor?: Lab;
}

export function backgroundAt(plane: BackgroundPlane, x: number, y: number, width: number, height: number): Lab {
  const u = (x + 0.5) / width - 0.5;
  const v = (y + 0.5) / height - 0.5;
  return [0, 1, 2].map((c) => plane.center[c] + plane.dx[c] * u + plane.dy[c] * v) as unknown as Lab;
}

/** Least-squares plane through the border ring, refitted once without the pixels it fits worst. */
function fitBackground(lab: Float32Array, width: number, height: number): BackgroundPlane {
  const band = Math.max(1, Math.round(BORDER_SHARE * Math.min(width, height)));
  const ring: number[] = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (x < band || y < band || x >= width - band || y >= height - band) ring.push(y * width + x);
    }
  }
  let kept = ring;
  let plane = solvePlane(lab, kept, width, height);
  const residual = (p: number) =>
    deltaE([lab[3 * p], lab[3 * p + 1], lab[3 * p + 2]], backgroundAt(plane, p % width, Math.floor(p / width), width, height));
  const sorted = ring.map(residual).sort((a, b) => a - b);
  // Whatever reaches the border (a corner of a container, a shadow) is the worst-fitting fifth at most.
  const cutoff = Math.max(4, sorted[Math.floor(0.8 * (sorted.length - 1))]);
  kept = ring.filter((p) => residual(p) <= cutoff);
  plane = solvePlane(lab, kept, width, height);
  return plane;
}

function solvePlane(lab: Float32Array, pixels: readonly number[], width: number, height: number): BackgroundPlane {
  // Normal equations of c + dx u + dy v, with u, v centred image coordinates in [-0.5, 0.5].
  const m = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  const rhs = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  for (const p of pixels) {
    const basis = [1, ((p % width) + 0.5) / width - 0.5, (Math.floor(p / width) + 0.5) / height - 0.5];
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) m[i][j] += basis[i] * basis[j];
      for (let c = 0; c < 3; c++) rhs[i][c] += basis[i] * lab[3 * p + c];
    }
  }
  const solved = [0, 1, 2].map((c) => solve3(m, [rhs[0][c], rhs[1][c], rhs[2][c]]));
  return {
    center: [solved[0][0], solved[1][0], solved[2][0]],
    dx: [solved[0][1], solved[1][1], solved[2][1]],
    dy: [solved[0][2], solved[1][2], solved[2][2]],
  };
}

/** Cramer's rule; a singular system (no pixels) gives zeros. */
function solve3(m: number[][], b: number[]): number[] {
  const det = (a: number[][]) =>
    a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
  const d = det(m);
  if (Math.abs(d) < 1e-12) return [0, 0, 0];
  return [0, 1, 2].map((k) => det(m.map((row, i) => row.map((v, j) => (j === k ? b[i] : v)))) / d);
}

function medianColor(lab: Float32Array, mask: Mask): Lab | undefined {
  const inside = new Float64Array(lab.length);
  let count = 0;
  mask.data.forEach((m, p) => {
    if (m) inside.set(lab.subarray(3 * p, 3 * p + 3), 3 * count++);
  });
  if (count === 0) return undefined;
  const scratch = new Float64Array(count);
  return [median(inside, scratch, count, 0, 3), median(inside, scratch, count, 1, 3), median(inside, scratch, count, 2, 3)];
}

/** Area / bounding-box area, and the box's aspect ratio (long side / short side). */
function boxShape(mask: Mask): { fill: number; aspect: number } {
  const bounds = maskBounds(mask);
  if (bounds === undefined) return { fill: 0, aspect: Infinity };
  const w0 = bounds.x1 - bounds.x0 + 1;
  const h0 = bounds.y1 - bounds.y0 + 1;
  return { fill: maskArea(mask) / (w0 * h0), aspect: Math.max(w0, h0) / Math.min(w0, h0) };
}

function differsFrom(lab: Float32Array, region: Mask, reference: (p: number) => Lab): Mask {
  const { width, height } = region;
  const data = new Uint8Array(width * height);
  for (let p = 0; p < width * height; p++) {
    if (!region.data[p]) continue;
    data[p] = deltaE([lab[3 * p], lab[3 * p + 1], lab[3 * p + 2]], reference(p)) > FOREGROUND_DELTA_E ? 1 : 0;
  }
  return { width, height, data };
}

/**
 * Splits an icon into background, container and glyph. The background is the plane fitted to the
 * border ring; what differs from it is the icon. When the icon's largest piece, holes filled, is
 * big, mostly one colour, convex, as wide as tall and holds something of another colour, it is a
 * container (circle or rounded square by how much of its bounding box it fills), and the glyph is
 * what differs from the container's colour inside it; otherwise the glyph is everything that
 * differs from the background.
 */
export function separateIcon(image: Image8): IconParts {
  const { width, height } = image;
  const lab = imageLab(image.data, image.channels);
  const background = fitBackground(lab, width, height);
  const everything: Mask = { width, height, data: new Uint8Array(width * height).fill(1) };
  const drawn = differsFrom(lab, everything, (p) => backgroundAt(background, p % width, Math.floor(p / width), width, height));

  const blob = fillHoles(largestComponent(drawn));
  const blobArea = maskArea(blob);
  const color = medianColor(lab, blob);
  let container: IconParts['container'] = { kind: 'none' };
  let glyph = drawn;
  if (color && blobArea >= CONTAINER_MIN_AREA * width * height) {
    let uniform = 0;
    blob.data.forEach((inside, p) => {
      if (inside && deltaE([lab[3 * p], lab[3 * p + 1], lab[3 * p + 2]], color) <= CONTAINER_DELTA_E) uniform++;
    });
    const shape = boxShape(blob);
    if (uniform >= CONTAINER_MIN_UNIFORM * blobArea && shape.fill >= CONTAINER_MIN_FILL && shape.aspect <= CONTAINER_MAX_ASPECT) {
      let inner = blob;
      for (let i = 0; i < CONTAINER_RIM; i++) inner = erode(inner);
      const inside = differsFrom(lab, inner, () => color);
      if (maskArea(inside) >= CONTAINER_MIN_GLYPH * blobArea) {
        container = { kind: shape.fill < CIRCLE_MAX_FILL ? 'circle' : 'rounded square', color, mask: blob };
        glyph = inside;
      }
    }
  }
  const core = erode(glyph);
  const glyphColor = medianColor(lab, maskArea(core) > 0 ? core : glyph);
  return { width, height, lab, background, container, glyph, glyphColor };
}

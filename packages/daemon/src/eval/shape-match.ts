import { renderIcon } from '../icons/render';
import { SHAPES, type ShapeName } from '../icons/shapes';
import type { IconStyle } from '../icons/spec';
import { fillHoles, maskArea, type Mask } from './mask';

/** Side of the normalised frame in cells, and its half-extent in units of sqrt(area). */
const GRID = 64;
const EXTENT = 1.25;

/**
 * The mask resampled (bilinearly) into a frame centred on its centroid and scaled by the square
 * root of its area, so that comparing two masks ignores where the shape sits and how big it is:
 * the model learned the renderer's position and size jitter, which says nothing about the shape.
 * Undefined for an empty mask.
 */
export function normalizeMask(mask: Mask): Float32Array | undefined {
  const { width: w, height: h, data } = mask;
  const area = maskArea(mask);
  if (area === 0) return undefined;
  let cx = 0;
  let cy = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (data[y * w + x]) {
        cx += x;
        cy += y;
      }
    }
  }
  cx /= area;
  cy /= area;
  const s = Math.sqrt(area);
  const at = (x: number, y: number): number => (x >= 0 && y >= 0 && x < w && y < h ? data[y * w + x] : 0);
  const out = new Float32Array(GRID * GRID);
  const cell = (2 * EXTENT) / GRID;
  for (let j = 0; j < GRID; j++) {
    const sy = cy + (-EXTENT + (j + 0.5) * cell) * s;
    const y0 = Math.floor(sy);
    const fy = sy - y0;
    for (let i = 0; i < GRID; i++) {
      const sx = cx + (-EXTENT + (i + 0.5) * cell) * s;
      const x0 = Math.floor(sx);
      const fx = sx - x0;
      out[j * GRID + i] =
        (1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x0 + 1, y0)) + fy * ((1 - fx) * at(x0, y0 + 1) + fx * at(x0 + 1, y0 + 1));
    }
  }
  return out;
}

/** Soft intersection over union of two normalised masks; 0 when either is missing. */
export function softIou(a: Float32Array | undefined, b: Float32Array | undefined): number {
  if (!a || !b) return 0;
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    inter += Math.min(a[i], b[i]);
    union += Math.max(a[i], b[i]);
  }
  return union > 0 ? inter / union : 0;
}

/** Any style does: only the silhouette is used. */
const TEMPLATE_STYLE: IconStyle = {
  foreground: 'black',
  secondary: 'black',
  background: 'white',
  fill: 'filled',
  stroke: 'medium',
  pattern: 'solid',
  patternAngle: 0,
  patternPeriod: 0.3,
  rounded: 0,
  shadow: false,
};

/**
 * Corner radii the templates are drawn with: the renderer's styles use 0 or 0.05-0.12, and
 * rounding changes a silhouette a lot (gear teeth become bumps, the house's door closes).
 */
const TEMPLATE_ROUNDING = [0, 0.05, 0.085, 0.12];

const templateCache = new Map<number, ReadonlyMap<ShapeName, Float32Array[]>>();

/**
 * The renderer's silhouettes of every shape at `size` pixels, one per corner radius, normalised.
 * Holes are filled as in the images' silhouettes (the gear's axle hole is enclosed), so both
 * sides are treated alike.
 */
export function shapeTemplates(size: number): ReadonlyMap<ShapeName, Float32Array[]> {
  let templates = templateCache.get(size);
  if (!templates) {
    const map = new Map<ShapeName, Float32Array[]>();
    for (const shape of SHAPES) {
      map.set(
        shape,
        TEMPLATE_ROUNDING.map((rounded) => {
          const style = { ...TEMPLATE_STYLE, rounded };
          const icon = renderIcon({ shape, style, scale: 0.72, offsetX: 0, offsetY: 0 }, size);
          const data = Uint8Array.from(icon.silhouette, (c) => (c >= 0.5 ? 1 : 0));
          return normalizeMask(fillHoles({ width: size, height: size, data }))!;
        }),
      );
    }
    templates = map;
    templateCache.set(size, templates);
  }
  return templates;
}

export interface ShapeMatch {
  /** Normalised IoU of the silhouette with each shape's template. */
  iou: Record<ShapeName, number>;
  /** The best-matching shape; undefined when nothing was segmented. */
  predicted?: ShapeName;
}

/** Nearest-template classification of a silhouette among the renderer's shapes. */
export function matchShape(silhouette: Mask): ShapeMatch {
  const templates = shapeTemplates(Math.max(silhouette.width, silhouette.height));
  const normalized = normalizeMask(silhouette);
  const iou = {} as Record<ShapeName, number>;
  let predicted: ShapeName | undefined;
  let best = 0;
  for (const shape of SHAPES) {
    iou[shape] = Math.max(...templates.get(shape)!.map((t) => softIou(normalized, t)));
    if (iou[shape] > best) {
      best = iou[shape];
      predicted = shape;
    }
  }
  return { iou, predicted };
}

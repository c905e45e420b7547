import { captionFor } from '../icons/caption';
import { createRng, type Rng } from '../icons/rng';
import { SHAPES, type ShapeName } from '../icons/shapes';
import { randomIconSpec, type IconSpec } from '../icons/spec';

/** One evaluation set: what every condition generates, and the renderer's versions of it. */
export interface SetPlan {
  index: number;
  /** Seed of the set's first image; image i uses seed + i in every condition. */
  seed: number;
  /** Distinct shapes, one per image; the first is the reference of generated sets. */
  shapes: ShapeName[];
  /** Shape-only prompts ("a star icon"): the style is left to chance, or to sharing. */
  prompts: string[];
  /** The reference-image path's input: a renderer icon of another shape, and its caption. */
  reference: { spec: IconSpec; caption: string };
  /** The set's shapes drawn by the renderer in the reference's style (perfect consistency). */
  sameStyle: IconSpec[];
  /** The set's shapes drawn by the renderer in independent random styles (chance consistency). */
  randomStyles: IconSpec[];
}

export function shapePrompt(shape: ShapeName): string {
  return `${/^[aeiou]/.test(shape) ? 'an' : 'a'} ${shape} icon`;
}

/** k distinct items, uniformly (partial Fisher-Yates). */
function sample<T>(rng: Rng, items: readonly T[], k: number): T[] {
  const pool = [...items];
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rng.next() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, k);
}

/**
 * The evaluation's sets, a pure function of (count, setSize, seed). Image seeds never repeat
 * across sets, so no two sets start from the same noise.
 */
export function planSets(count: number, setSize: number, seed: number): SetPlan[] {
  if (!Number.isInteger(setSize) || setSize < 2 || setSize >= SHAPES.length) {
    throw new Error(`set size must be an integer from 2 to ${SHAPES.length - 1}, got ${setSize}`);
  }
  const rng = createRng(seed);
  return Array.from({ length: count }, (_, index) => {
    // setSize + 1 distinct shapes: the reference image's shape is not among the targets, so
    // copying it (content leakage) is visible.
    const [referenceShape, ...shapes] = sample(rng, SHAPES, setSize + 1);
    const referenceSpec = randomIconSpec(rng, referenceShape);
    return {
      index,
      seed: (seed + index * setSize) >>> 0,
      shapes,
      prompts: shapes.map(shapePrompt),
      reference: { spec: referenceSpec, caption: captionFor(referenceSpec, rng) },
      sameStyle: shapes.map((shape) => ({ ...randomIconSpec(rng, shape), style: referenceSpec.style })),
      randomStyles: shapes.map((shape) => randomIconSpec(rng, shape)),
    };
  });
}

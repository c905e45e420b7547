import { describe, expect, it } from 'vitest';
import { normalizeMask, matchShape, softIou } from '../../src/eval/shape-match';
import { segment } from '../../src/eval/segment';
import { PATTERNS, SHAPES, createRng, randomIconSpec, type Stroke } from '../../src/icons/index';
import { image, spec, uniformImage } from './support';

const predict = (img: ReturnType<typeof image>) => matchShape(segment(img).silhouette);

describe('shape classification', () => {
  it.each(SHAPES)('%s is recognised in every fill, stroke, corner and pattern', (shape) => {
    const variants = [
      ...(['thin', 'medium', 'thick'] as Stroke[]).map((stroke) => ({ fill: 'outline' as const, stroke })),
      ...PATTERNS.map((pattern) => ({ pattern, patternAngle: 0.7 })),
      { rounded: 0.12 },
      { fill: 'outline' as const, rounded: 0.08, shadow: true },
    ];
    for (const variant of variants) {
      const match = predict(image(spec(shape, variant)));
      expect(match.predicted, JSON.stringify(variant)).toBe(shape);
      expect(match.iou[shape]).toBeGreaterThan(0.85);
    }
  });

  it('ignores position and size', () => {
    const small = normalizeMask(segment(image(spec('star', {}, { scale: 0.55, offsetX: -0.2, offsetY: 0.15 }))).silhouette);
    const large = normalizeMask(segment(image(spec('star', {}, { scale: 0.85, offsetX: 0.05 }))).silhouette);
    expect(softIou(small, large)).toBeGreaterThan(0.9);
  });

  it('is nearly always right on random renderer icons', () => {
    // The misses are gradients whose blend passes through the background colour, which hides
    // part of the shape from any colour-based segmentation.
    const rng = createRng(11);
    let correct = 0;
    const n = 320;
    for (let i = 0; i < n; i++) {
      const s = randomIconSpec(rng, SHAPES[i % SHAPES.length]);
      if (predict(image(s)).predicted === s.shape) correct++;
    }
    expect(correct / n).toBeGreaterThan(0.97);
  });

  it('predicts nothing, with zero IoU everywhere, for a uniform image', () => {
    const match = predict(uniformImage([200, 200, 200]));
    expect(match.predicted).toBeUndefined();
    expect(Object.values(match.iou).every((v) => v === 0)).toBe(true);
  });

  it('soft IoU is 1 for identical masks and 0 for disjoint or missing ones', () => {
    expect(softIou(Float32Array.of(1, 0.5, 0), Float32Array.of(1, 0.5, 0))).toBe(1);
    expect(softIou(Float32Array.of(1, 0), Float32Array.of(0, 1))).toBe(0);
    expect(softIou(undefined, Float32Array.of(1))).toBe(0);
  });
});

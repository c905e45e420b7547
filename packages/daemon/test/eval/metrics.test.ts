import { describe, expect, it } from 'vitest';
import { analyzeImage, scoreSet, type ImageAnalysis } from '../../src/eval/metrics';
import { createRng, randomIconSpec, randomIconStyle, type IconStyle, type ShapeName } from '../../src/icons/index';
import { image, uniformImage } from './support';

const SHAPES_OF_SET: ShapeName[] = ['star', 'house', 'drop', 'gear'];

function renderedSet(seed: number, style?: IconStyle, shapes = SHAPES_OF_SET, asked = shapes): ImageAnalysis[] {
  const rng = createRng(seed);
  return shapes.map((shape, i) => {
    const s = randomIconSpec(rng, shape);
    return analyzeImage({ image: image(style ? { ...s, style } : s), shape: asked[i] });
  });
}

describe('scoreSet', () => {
  it('scores a clean one-style set as faithful and consistent', () => {
    const scores = scoreSet(renderedSet(1, randomIconStyle(createRng(2))));
    expect(scores.accuracy).toBe(1);
    expect(scores.iou).toBeGreaterThan(0.9);
    expect(scores.consistency).toBeGreaterThan(0.85);
    // One background and one palette throughout; fill and texture vary a little with the shape.
    expect(scores.consistencyParts.background).toBeCloseTo(1, 6);
    expect(scores.consistencyParts.palette).toBeGreaterThan(0.95);
    expect(scores.referenceSimilarity).toBeGreaterThan(0.85);
    expect(scores.leakage).toBe(0);
  });

  it('scores one-style sets above random-style sets', () => {
    let wins = 0;
    for (let seed = 0; seed < 12; seed++) {
      const same = scoreSet(renderedSet(seed, randomIconStyle(createRng(100 + seed))));
      const random = scoreSet(renderedSet(seed));
      if (same.consistency > random.consistency) wins++;
    }
    expect(wins).toBe(12);
  });

  it('gives no credit for the wrong shape, and counts copies of the reference as leakage', () => {
    const wrong = scoreSet(renderedSet(3, undefined, SHAPES_OF_SET, ['circle', 'square', 'cross', 'moon']));
    expect(wrong.accuracy).toBe(0);
    const style = randomIconStyle(createRng(4));
    // Every image shows a star although stars were asked only of the first.
    const copied = scoreSet(renderedSet(3, style, ['star', 'star', 'star', 'star'], SHAPES_OF_SET));
    expect(copied.accuracy).toBe(0.25);
    expect(copied.leakage).toBe(1);
  });

  it('does not depend on the order of the images, except for what is measured against the first', () => {
    const set = renderedSet(6);
    const a = scoreSet(set);
    const b = scoreSet([set[2], set[0], set[3], set[1]]);
    expect(b.accuracy).toBe(a.accuracy);
    expect(b.iou).toBeCloseTo(a.iou, 12);
    expect(b.consistency).toBeCloseTo(a.consistency, 12);
  });

  it('measures against an external reference on every image', () => {
    const style = randomIconStyle(createRng(8));
    const set = renderedSet(7, style);
    const reference = analyzeImage({ image: image({ ...randomIconSpec(createRng(9), 'heart'), style }), shape: 'heart' });
    const withReference = scoreSet(set, reference);
    expect(withReference.referenceSimilarity).toBeGreaterThan(0.85);
    const stranger = analyzeImage({ image: image({ ...randomIconSpec(createRng(9), 'heart'), style: randomIconStyle(createRng(77)) }), shape: 'heart' });
    expect(scoreSet(set, stranger).referenceSimilarity).toBeLessThan(withReference.referenceSimilarity);
  });

  it('handles blank images without NaN', () => {
    const blank = analyzeImage({ image: uniformImage([128, 128, 128]), shape: 'star' });
    const scores = scoreSet([blank, blank, ...renderedSet(2).slice(2)]);
    const { consistencyParts, ...means } = scores;
    for (const v of [...Object.values(means), ...Object.values(consistencyParts)]) expect(Number.isFinite(v)).toBe(true);
    expect(scores.accuracy).toBeLessThanOrEqual(0.5);
    expect(() => scoreSet([blank])).toThrow(/at least 2/);
  });
});

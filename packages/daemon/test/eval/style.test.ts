import { describe, expect, it } from 'vitest';
import { segment } from '../../src/eval/segment';
import { describeStyle, paletteSimilarity, styleSimilarity } from '../../src/eval/style';
import { SHAPES, createRng, randomIconSpec, randomIconStyle, type IconSpec } from '../../src/icons/index';
import { pick } from '../../src/icons/rng';
import { image, spec, uniformImage } from './support';

const describe_ = (s: IconSpec) => describeStyle(segment(image(s)));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('style similarity', () => {
  it('is 1 for the same image and symmetric', () => {
    const a = describe_(spec('heart', { pattern: 'stripes', patternAngle: 0.5, shadow: true }));
    const b = describe_(spec('moon', { background: 'navy', pattern: 'dots' }));
    const same = styleSimilarity(a, a);
    expect(same.total).toBeCloseTo(1, 10);
    for (const part of ['background', 'palette', 'fill', 'texture'] as const) expect(same[part]).toBeCloseTo(1, 10);
    expect(styleSimilarity(a, b).total).toBeCloseTo(styleSimilarity(b, a).total, 12);
  });

  it('tells one style across shapes from independent random styles', () => {
    const rng = createRng(5);
    const same: number[] = [];
    const random: number[] = [];
    for (let i = 0; i < 80; i++) {
      const style = randomIconStyle(rng);
      const [s1, s2] = [pick(rng, SHAPES), pick(rng, SHAPES)];
      same.push(styleSimilarity(describe_({ ...randomIconSpec(rng, s1), style }), describe_({ ...randomIconSpec(rng, s2), style })).total);
      random.push(styleSimilarity(describe_(randomIconSpec(rng, s1)), describe_(randomIconSpec(rng, s2))).total);
    }
    expect(mean(same)).toBeGreaterThan(0.9);
    expect(mean(random)).toBeLessThan(0.4);
    expect(Math.min(...same)).toBeGreaterThan(0.75);
  });

  it('drops with each attribute that changes', () => {
    const base = { pattern: 'stripes', patternAngle: 0.3 } as const;
    const ref = describe_(spec('square', base));
    const other = (style: Parameters<typeof spec>[1]) => styleSimilarity(ref, describe_(spec('circle', { ...base, ...style })));
    const same = other({});
    expect(same.total).toBeGreaterThan(0.9);
    expect(other({ background: 'navy' }).background).toBeLessThan(0.05);
    expect(other({ foreground: 'green', secondary: 'purple' }).palette).toBeLessThan(0.2);
    expect(other({ fill: 'outline', stroke: 'thin' }).fill).toBeLessThan(0.7);
    expect(other({ pattern: 'solid' }).texture).toBeLessThan(0.5);
    expect(other({ patternAngle: 0.3 + Math.PI / 2 }).texture).toBeLessThan(same.texture);
  });

  it('handles blank images without NaN', () => {
    const blank = describeStyle(segment(uniformImage([10, 10, 10])));
    expect(blank.fillRatio).toBe(0);
    expect(blank.palette.colors).toEqual([]);
    const icon = describe_(spec('star'));
    for (const s of [styleSimilarity(blank, blank), styleSimilarity(blank, icon)]) {
      for (const v of Object.values(s)) expect(Number.isFinite(v)).toBe(true);
    }
    expect(paletteSimilarity(blank.palette, icon.palette)).toBe(0);
  });
});

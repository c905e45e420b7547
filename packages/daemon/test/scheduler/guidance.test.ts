import { describe, expect, it } from 'vitest';
import { applyGuidance, guidanceScaleEmbedding } from '../../src/scheduler/guidance';

describe('applyGuidance', () => {
  it('combines the unconditional and conditional halves: eps_u + g (eps_c - eps_u)', () => {
    // batch of 2 items of 2 values: uncond [1, 2 | 0, -1], cond [3, 5 | 0.5, -1]
    const out = Float32Array.from([1, 2, 0, -1, 3, 5, 0.5, -1]);
    // g = 7.5: 1 + 7.5·2 = 16, 2 + 7.5·3 = 24.5, 0 + 7.5·0.5 = 3.75, -1 + 7.5·0 = -1
    expect([...applyGuidance(out, 7.5)]).toEqual([16, 24.5, 3.75, -1]);
    // g = 1 is the conditional half, g = 0 the unconditional one
    expect([...applyGuidance(out, 1)]).toEqual([3, 5, 0.5, -1]);
    expect([...applyGuidance(out, 0)]).toEqual([1, 2, 0, -1]);
  });

  it('rejects an odd batch', () => {
    expect(() => applyGuidance(new Float32Array(3), 2)).toThrow('even batch');
  });
});

describe('guidanceScaleEmbedding', () => {
  it('is [sin, cos] of 1000 w at frequencies 10000^(-i / (h - 1)), as diffusers computes it', () => {
    // dim 4: h = 2, frequencies 1 and 1e-4; w = 7.5 (guidance 8.5): angles 7500 and 0.75
    const e = guidanceScaleEmbedding(7.5, 4);
    expect(e[0]).toBeCloseTo(Math.sin(7500), 6); // 0.9196...
    expect(e[1]).toBeCloseTo(0.6816388, 6); // sin(0.75)
    expect(e[2]).toBeCloseTo(Math.cos(7500), 6);
    expect(e[3]).toBeCloseTo(0.7316889, 6); // cos(0.75)
    // dim 7: h = 3, frequencies 1, 0.01, 1e-4; one zero of padding
    const odd = guidanceScaleEmbedding(0.002, 7);
    const angles = [2, 0.02, 0.0002];
    expect([...odd]).toEqual([...angles.map(Math.sin), ...angles.map(Math.cos), 0].map((v) => Math.fround(v)));
    // w = 0 (guidance 1): sines 0, cosines 1
    expect([...guidanceScaleEmbedding(0, 6)]).toEqual([0, 0, 0, 1, 1, 1]);
    expect(() => guidanceScaleEmbedding(1, 2)).toThrow(/at least 4/);
  });
});

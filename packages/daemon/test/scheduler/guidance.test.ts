import { describe, expect, it } from 'vitest';
import { applyGuidance } from '../../src/scheduler/guidance';

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

import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors';
import { parseSchedulerConfig } from '../../src/scheduler/config';
import { DdimSampler } from '../../src/scheduler/ddim';
import { roundHalfEven, spacedTimesteps } from '../../src/scheduler/timesteps';
import { SD_CONFIG } from './reference';

const withSpacing = (timestep_spacing: string) => parseSchedulerConfig({ ...SD_CONFIG, timestep_spacing }, 'ddim');

describe('timestep spacing', () => {
  it('leading, 50 steps, steps_offset 1: 981, 961, ..., 21, 1', () => {
    // N // steps = 1000 // 50 = 20; t_k = 20k + 1 for k = 49..0
    const expected = Array.from({ length: 50 }, (_, i) => 981 - 20 * i);
    expect(spacedTimesteps(withSpacing('leading'), 50)).toEqual(expected);
    expect(expected.slice(0, 3)).toEqual([981, 961, 941]);
    expect(expected.at(-1)).toBe(1);
  });

  it('leading with a ratio that does not divide: 1000 // 3 = 333 -> 667, 334, 1', () => {
    expect(spacedTimesteps(withSpacing('leading'), 3)).toEqual([667, 334, 1]);
  });

  it('trailing, 50 steps: 999, 979, ..., 19 (steps_offset ignored)', () => {
    // round(1000 - 20k) - 1
    expect(spacedTimesteps(withSpacing('trailing'), 50)).toEqual(Array.from({ length: 50 }, (_, i) => 999 - 20 * i));
  });

  it('trailing, 16 steps: ties (1000 - 62.5k) round to even as numpy does', () => {
    // 1000, 937.5->938, 875, 812.5->812, 750, 687.5->688, 625, 562.5->562, 500, 437.5->438, 375,
    // 312.5->312, 250, 187.5->188, 125, 62.5->62; then minus 1.
    expect(spacedTimesteps(withSpacing('trailing'), 16)).toEqual([999, 937, 874, 811, 749, 687, 624, 561, 499, 437, 374, 311, 249, 187, 124, 61]);
  });

  it('linspace, 50 steps: k · 999/49 from the top; DDIM rounds them', () => {
    const raw = spacedTimesteps(withSpacing('linspace'), 50);
    // 999, 48 · 20.387755 = 978.6122, 47 · 20.387755 = 958.2245, ..., 20.387755, 0
    expect(raw[0]).toBe(999);
    expect(raw[1]).toBeCloseTo(978.6122449, 6);
    expect(raw[49]).toBe(0);
    const ddim = new DdimSampler(withSpacing('linspace'), 50).timesteps;
    expect(ddim.slice(0, 3)).toEqual([999, 979, 958]);
    expect(ddim.slice(-2)).toEqual([20, 0]);
    // No ties occur (49 is prime to 999), so rounding matches Math.round here.
    expect(ddim).toEqual(Array.from({ length: 50 }, (_, i) => Math.round(((49 - i) * 999) / 49)));
  });

  it('roundHalfEven follows numpy', () => {
    expect([0.5, 1.5, 2.5, 937.5, 812.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, 938, 812, 2, 3]);
  });

  it('rejects step counts outside 1..N', () => {
    expect(() => spacedTimesteps(withSpacing('leading'), 0)).toThrow(InputError);
    expect(() => spacedTimesteps(withSpacing('leading'), 1001)).toThrow('steps must be an integer from 1 to 1000 (got 1001)');
    expect(() => spacedTimesteps(withSpacing('leading'), 2.5)).toThrow(InputError);
    // leading at N steps: ratio 1, the top timestep 999 + steps_offset 1 = 1000 does not exist
    expect(() => spacedTimesteps(withSpacing('leading'), 1000)).toThrow('1000 steps with steps_offset 1 would start at timestep 1000');
    expect(spacedTimesteps(withSpacing('trailing'), 1000)[0]).toBe(999);
  });
});

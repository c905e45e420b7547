import { describe, expect, it } from 'vitest';
import { selectSharedLayers } from '../../src/attention';
import { InputError } from '../../src/errors';

const shared = (layers: boolean[]) => layers.map((on) => (on ? 1 : 0));

describe('selectSharedLayers (only_self_level)', () => {
  it('shares every layer at 0 and none at 1', () => {
    expect(shared(selectSharedLayers(5, 0))).toEqual([1, 1, 1, 1, 1]);
    expect(shared(selectSharedLayers(5, 1))).toEqual([0, 0, 0, 0, 0]);
  });

  it('leaves the flagged layers plain up to 0.5', () => {
    // L = 16, l = 0.25: k = floor(4) = 4, flagged when j mod floor(16 / 4) = j mod 4 == 0.
    expect(shared(selectSharedLayers(16, 0.25))).toEqual([0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1]);
    // L = 10, l = 0.5: k = 5, flagged when j mod 2 == 0.
    expect(shared(selectSharedLayers(10, 0.5))).toEqual([0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
    // L = 7, l = 0.3: k = floor(2.1) = 2, flagged when j mod floor(3.5) = j mod 3 == 0.
    expect(shared(selectSharedLayers(7, 0.3))).toEqual([0, 1, 1, 0, 1, 1, 0]);
  });

  it('shares only the flagged layers above 0.5', () => {
    // L = 16, l = 0.75: m = 0.25, k = 4, flagged j mod 4 == 0, and those are the shared ones.
    expect(shared(selectSharedLayers(16, 0.75))).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0]);
    // L = 10, l = 0.7: m = 1 - 0.7 = 0.30000000000000004, k = floor(3.0000000000000004) = 3, j mod 3 == 0.
    expect(shared(selectSharedLayers(10, 0.7))).toEqual([1, 0, 0, 1, 0, 0, 1, 0, 0, 1]);
  });

  it('flags nothing when fewer than one layer would be flagged (the reference divides by zero there)', () => {
    // L = 4, l = 0.2: k = floor(0.8) = 0.
    expect(shared(selectSharedLayers(4, 0.2))).toEqual([1, 1, 1, 1]);
    expect(shared(selectSharedLayers(4, 0.9))).toEqual([0, 0, 0, 0]);
  });

  it('refuses levels outside [0, 1]', () => {
    expect(() => selectSharedLayers(4, 1.5)).toThrow(InputError);
    expect(() => selectSharedLayers(4, Number.NaN)).toThrow(InputError);
  });
});

import { describe, expect, it } from 'vitest';
import { solveLinearSystem } from '../src/linear-system';

describe('solveLinearSystem', () => {
  it('solves a 3x3 system that needs pivoting', () => {
    // x = 1, y = 2, z = 3: 0·1 + 2·2 + 3 = 7, 1 + 2 + 3 = 6, 2·1 + 2 + 0 = 4; row 0's zero pivot forces a swap.
    const { x, singular } = solveLinearSystem([0, 2, 1, 1, 1, 1, 2, 1, 0], [7, 6, 4]);
    expect(singular).toBe(false);
    x.forEach((v, i) => expect(v).toBeCloseTo([1, 2, 3][i], 12));
  });

  it('solves a symmetric 6x6 normal-equation system as a least-squares fit needs it', () => {
    // A = MᵀM for a fixed well-conditioned M, b = A·z for known z: the solution must be z again.
    const m = Array.from({ length: 8 }, (_, r) => Array.from({ length: 6 }, (_, c) => Math.sin(1 + r * 6 + c) + (r === c ? 2 : 0)));
    const a = new Float64Array(36);
    for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) for (let r = 0; r < 8; r++) a[i * 6 + j] += m[r][i] * m[r][j];
    const z = [0.5, -1, 2, 0.25, -0.75, 1.5];
    const b = Array.from({ length: 6 }, (_, i) => z.reduce((s, zj, j) => s + a[i * 6 + j] * zj, 0));
    const { x, singular } = solveLinearSystem(a, b);
    expect(singular).toBe(false);
    x.forEach((v, i) => expect(v).toBeCloseTo(z[i], 9));
  });

  it('gives 0 for an unknown a singular system cannot determine, and says it was singular', () => {
    const { x, singular } = solveLinearSystem([2, 0, 0, 0], [4, 0]);
    expect(Array.from(x)).toEqual([2, 0]);
    expect(singular).toBe(true);
  });

  it('refuses a matrix of the wrong size', () => {
    expect(() => solveLinearSystem([1, 2, 3], [1, 2])).toThrow(/a has 3 entries, a 2x2 system needs 4/);
  });
});

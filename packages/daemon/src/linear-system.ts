/**
 * Solves a·x = b for a small square system (`a` row-major, n = b.length) by Gauss-Jordan
 * elimination with partial pivoting. An unknown the system cannot determine (no usable pivot in
 * its column: a colour channel that never varies, a border fit with too few distinct points) is
 * 0, and `singular` says there was one, so a caller can choose between that answer and none.
 */
export function solveLinearSystem(a: ArrayLike<number>, b: ArrayLike<number>): { x: Float64Array; singular: boolean } {
  const n = b.length;
  if (a.length !== n * n) throw new Error(`solveLinearSystem: a has ${a.length} entries, a ${n}x${n} system needs ${n * n}`);
  // Augmented rows [a | b], swapped as rows, not copied.
  const rows = Array.from({ length: n }, (_, r) => {
    const row = new Float64Array(n + 1);
    for (let c = 0; c < n; c++) row[c] = a[r * n + c];
    row[n] = b[r];
    return row;
  });
  let singular = false;
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(rows[r][col]) > Math.abs(rows[pivot][col])) pivot = r;
    [rows[col], rows[pivot]] = [rows[pivot], rows[col]];
    const p = rows[col];
    if (Math.abs(p[col]) < 1e-12) {
      singular = true;
      continue;
    }
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const factor = rows[r][col] / p[col];
      if (factor === 0) continue;
      for (let c = col; c <= n; c++) rows[r][c] -= factor * p[c];
    }
  }
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.abs(rows[i][i]) < 1e-12 ? 0 : rows[i][n] / rows[i][i];
  return { x, singular };
}

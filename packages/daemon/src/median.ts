/**
 * The median of `count` values (from `offset`, every `stride`-th) by selection, in linear time:
 * robust fits take one of a few thousand residuals per iteration, where sorting them all cost
 * more than the fit. `scratch` (at least `count` long) is overwritten; the values are not.
 * NaN if there are no values.
 */
export function median(values: ArrayLike<number>, scratch: Float64Array, count = values.length, offset = 0, stride = 1): number {
  if (count === 0) return NaN;
  if (scratch.length < count) throw new Error(`median: scratch holds ${scratch.length} values, ${count} are needed`);
  for (let i = 0; i < count; i++) scratch[i] = values[offset + i * stride];
  const mid = count >> 1;
  const upper = select(scratch, count, mid);
  if (count % 2 === 1) return upper;
  // Everything before `mid` is at most the selected value: the other middle is their largest.
  let lower = scratch[0];
  for (let i = 1; i < mid; i++) if (scratch[i] > lower) lower = scratch[i];
  return (lower + upper) / 2;
}

/**
 * Rearranges a[0..count) so that a[k] holds the value a sort would put there, with nothing
 * larger before it and nothing smaller after it (Hoare's selection, median-of-three pivots).
 */
function select(a: Float64Array, count: number, k: number): number {
  let left = 0;
  let right = count - 1;
  while (right > left) {
    const middle = (left + right) >> 1;
    // Median of three as the pivot: sorted or constant runs stay linear.
    if (a[middle] < a[left]) swap(a, middle, left);
    if (a[right] < a[left]) swap(a, right, left);
    if (a[right] < a[middle]) swap(a, right, middle);
    const pivot = a[middle];
    let i = left;
    let j = right;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return a[k];
  }
  return a[k];
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}

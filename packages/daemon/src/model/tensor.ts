/** A host-side float tensor (row-major). Latents and images are NCHW. */
export interface FloatTensor {
  data: Float32Array;
  dims: number[];
}

/** A host-side integer tensor: token ids, integer timesteps. */
export interface IntTensor {
  ints: Int32Array;
  dims: number[];
}

export type Feed = FloatTensor | IntTensor;

export function isIntTensor(feed: Feed): feed is IntTensor {
  return 'ints' in feed;
}

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Rows [start, end) of the leading axis, without copying. */
export function sliceBatch(t: FloatTensor, start: number, end: number): FloatTensor {
  const row = elementCount(t.dims.slice(1));
  return { data: t.data.subarray(start * row, end * row), dims: [end - start, ...t.dims.slice(1)] };
}

/** Stacks tensors of equal trailing shape along the leading axis. */
export function concatBatch(parts: readonly FloatTensor[]): FloatTensor {
  if (parts.length === 0) throw new Error('concatBatch needs at least one tensor');
  const tail = parts[0].dims.slice(1);
  const rows = parts.reduce((n, p) => n + p.dims[0], 0);
  const data = new Float32Array(rows * elementCount(tail));
  let offset = 0;
  for (const p of parts) {
    data.set(p.data, offset);
    offset += p.data.length;
  }
  return { data, dims: [rows, ...tail] };
}

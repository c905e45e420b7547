/**
 * StyleAligned's shared self-attention and shared GroupNorm written out with plain loops over
 * items, heads, tokens and channels, in float64, straight from the method doc
 * (shared/docs/style-aligned-method.md). Independent of the graph rewrite it checks: no ONNX, no
 * tensor library, nothing shared with packages/daemon/src/attention.
 */

export interface SharedAttentionCase {
  /** [batch, tokens, channels] projections of one self-attention layer, channels = heads * headDim. */
  query: ArrayLike<number>;
  key: ArrayLike<number>;
  value: ArrayLike<number>;
  batch: number;
  tokens: number;
  channels: number;
  heads: number;
  /** ref(i) for every batch item. */
  refs: ArrayLike<number>;
  adainQueries: boolean;
  adainKeys: boolean;
  adainValues: boolean;
  /** false: AdaIN only, every item attends to its own tokens. */
  shareAttention: boolean;
  scoreScale: number;
  scoreShift: number;
  /** full_attention_share: consecutive groups of this many items attend as one image (no AdaIN). */
  fullShareGroup?: number;
}

type Tensor3 = number[][][]; // [item][token][channel]

function toTensor(flat: ArrayLike<number>, batch: number, tokens: number, channels: number): Tensor3 {
  return Array.from({ length: batch }, (_, b) =>
    Array.from({ length: tokens }, (_, s) => Array.from({ length: channels }, (_, c) => flat[(b * tokens + s) * channels + c])),
  );
}

/** Per item and channel over tokens: mean and sqrt(unbiased variance + 1e-5). */
function statistics(x: Tensor3, channels: number): { mean: number[][]; std: number[][] } {
  const mean = x.map((item) => Array.from({ length: channels }, (_, c) => item.reduce((sum, row) => sum + row[c], 0) / item.length));
  const std = x.map((item, b) =>
    Array.from({ length: channels }, (_, c) => {
      const squares = item.reduce((sum, row) => sum + (row[c] - mean[b][c]) ** 2, 0);
      return Math.sqrt(squares / (item.length - 1) + 1e-5);
    }),
  );
  return { mean, std };
}

export function adainReference(x: Tensor3, refs: ArrayLike<number>, channels: number): Tensor3 {
  const { mean, std } = statistics(x, channels);
  return x.map((item, b) =>
    item.map((row) => row.map((v, c) => ((v - mean[b][c]) / std[b][c]) * std[refs[b]][c] + mean[refs[b]][c])),
  );
}

/** Softmax attention of one query row of head h over the given key/value rows, with per-column logit offsets. */
function attendRow(query: number[], keys: number[][], values: number[][], offsets: number[], h: number, headDim: number): number[] {
  const logits = keys.map((key, j) => {
    let dot = 0;
    for (let t = 0; t < headDim; t++) dot += query[h * headDim + t] * key[h * headDim + t];
    return dot / Math.sqrt(headDim) + offsets[j];
  });
  const max = Math.max(...logits);
  const weights = logits.map((l) => Math.exp(l - max));
  const total = weights.reduce((a, b) => a + b, 0);
  const out = new Array<number>(headDim).fill(0);
  values.forEach((value, j) => {
    for (let t = 0; t < headDim; t++) out[t] += (weights[j] / total) * value[h * headDim + t];
  });
  return out;
}

/** The layer's attention-core output, [batch, tokens, channels] (before to_out). */
export function sharedAttentionReference(c: SharedAttentionCase): Float64Array {
  const { batch, tokens, channels, heads, refs } = c;
  const headDim = channels / heads;
  let q = toTensor(c.query, batch, tokens, channels);
  let k = toTensor(c.key, batch, tokens, channels);
  let v = toTensor(c.value, batch, tokens, channels);
  if (!c.fullShareGroup) {
    if (c.adainQueries) q = adainReference(q, refs, channels);
    if (c.adainKeys) k = adainReference(k, refs, channels);
    if (c.adainValues) v = adainReference(v, refs, channels);
  }
  const out = new Float64Array(batch * tokens * channels);
  for (let i = 0; i < batch; i++) {
    let keys: number[][];
    let values: number[][];
    let offsets: number[];
    if (c.fullShareGroup) {
      const start = i - (i % c.fullShareGroup);
      const group = Array.from({ length: c.fullShareGroup }, (_, g) => start + g);
      keys = group.flatMap((j) => k[j]);
      values = group.flatMap((j) => v[j]);
      offsets = new Array<number>(keys.length).fill(0);
    } else if (c.shareAttention) {
      const r = refs[i];
      const scale = r === i ? 1 : c.scoreScale;
      keys = [...k[i], ...k[r].map((row) => row.map((x) => x * scale))];
      values = [...v[i], ...v[r]];
      offsets = [...new Array<number>(tokens).fill(0), ...new Array<number>(tokens).fill(c.scoreShift)];
    } else {
      keys = k[i];
      values = v[i];
      offsets = new Array<number>(tokens).fill(0);
    }
    for (let s = 0; s < tokens; s++) {
      for (let h = 0; h < heads; h++) {
        const row = attendRow(q[i][s], keys, values, offsets, h, headDim);
        for (let t = 0; t < headDim; t++) out[(i * tokens + s) * channels + h * headDim + t] = row[t];
      }
    }
  }
  return out;
}

/**
 * InstanceNormalization of a GroupNorm's grouped input [batch, groups, length] with each item's
 * statistics taken over its own and its reference's values together (biased variance, as GroupNorm).
 */
export function sharedGroupNormReference(
  x: ArrayLike<number>,
  dims: readonly [number, number, number],
  refs: ArrayLike<number>,
  epsilon: number,
): Float64Array {
  const [batch, groups, length] = dims;
  const at = (b: number, g: number, l: number) => x[(b * groups + g) * length + l];
  const out = new Float64Array(batch * groups * length);
  for (let b = 0; b < batch; b++) {
    for (let g = 0; g < groups; g++) {
      const joint: number[] = [];
      for (const item of [b, refs[b]]) for (let l = 0; l < length; l++) joint.push(at(item, g, l));
      const mean = joint.reduce((a, v) => a + v, 0) / joint.length;
      const variance = joint.reduce((a, v) => a + (v - mean) ** 2, 0) / joint.length;
      for (let l = 0; l < length; l++) out[(b * groups + g) * length + l] = (at(b, g, l) - mean) / Math.sqrt(variance + epsilon);
    }
  }
  return out;
}

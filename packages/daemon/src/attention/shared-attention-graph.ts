/**
 * The shared-attention computation of one layer (the method doc's steps 1-3), from the layer's
 * own projections to the [B, S, C] tensor its `to_out.0` reads. Built on ONNX Runtime's
 * `com.microsoft` MultiHeadAttention, which takes keys and values longer than the queries and the
 * head count as an attribute, so no head split is needed around it.
 */
import { adainIf } from './adain-graph';
import type { Emitter } from './emitter';
import type { SelfAttentionLayer } from './find-layers';

/** Outer-graph tensors the branches of every layer read (rewrite.ts computes them once per call). */
export interface SharingControls {
  /** int64 [B]: ref(i), whose statistics AdaIN gives item i. */
  refIndex: string;
  /** int64 [T]: the items whose keys and values are extended (targets), and their references. */
  targets: string;
  targetRefs: string;
  /** int64 [R]: the other items, which attend to their own tokens only. */
  others: string;
  /** int64 [B]: where item i is in [targets..., others...]. */
  order: string;
  /** [1] in the model's float type, and whether it differs from 1 (bool [1]). */
  scoreScale: string;
  scaleOn: string;
  /** [1] in the model's float type, and whether it is non-zero (bool [1]). */
  scoreShift: string;
  shiftOn: string;
  /** bool scalars: AdaIN on queries, keys, values. */
  adainQueries: string;
  adainKeys: string;
  adainValues: string;
  /** int64 [1]: the group size of full attention sharing, and whether it is on (bool [1]). */
  fullShareSize: string;
  fullShareOn: string;
}

export function sharedAttention(e: Emitter, layer: SelfAttentionLayer, c: SharingControls): string {
  return e.ifElse(
    c.fullShareOn,
    layer.elemType,
    (branch) => fullShare(branch, layer, c),
    (branch) => referenceShare(branch, layer, c).output,
  );
}

/**
 * Targets attend to their own tokens and their reference's: keys `[K'_i ; s K'_ref(i)]`, values
 * `[V'_i ; V'_ref(i)]`, the shift added to the reference columns' logits. The other items (the
 * references) attend to themselves only: extending a reference with its own keys would double
 * its work and leave its result unchanged.
 */
export function referenceShare(e: Emitter, layer: SelfAttentionLayer, c: SharingControls): { output: string; key: string; value: string } {
  const { elemType } = layer;
  const query = adainIf(e, c.adainQueries, layer.query, c.refIndex, elemType);
  const key = adainIf(e, c.adainKeys, layer.key, c.refIndex, elemType);
  const value = adainIf(e, c.adainValues, layer.value, c.refIndex, elemType);
  const rows = (x: string, indices: string) => e.op('Gather', [x, indices], { axis: { int: 0 } });
  const targetQuery = rows(query, c.targets);
  const ownKeys = rows(key, c.targets);
  const gathered = rows(key, c.targetRefs);
  const refKeys = e.ifElse(c.scaleOn, elemType, (branch) => branch.op('Mul', [gathered, c.scoreScale]), () => gathered);
  const values = e.op('Concat', [rows(value, c.targets), rows(value, c.targetRefs)], { axis: { int: 1 } });
  const targetOut = e.ifElse(
    c.shiftOn,
    elemType,
    (branch) => shiftedAttention(branch, layer, targetQuery, ownKeys, refKeys, values, c.scoreShift),
    (branch) => attend(branch, layer, targetQuery, branch.op('Concat', [ownKeys, refKeys], { axis: { int: 1 } }), values),
  );
  const otherOut = attend(e, layer, rows(query, c.others), rows(key, c.others), rows(value, c.others));
  return { output: rows(e.op('Concat', [targetOut, otherOut], { axis: { int: 0 } }), c.order), key, value };
}

/**
 * The shift as one more channel per head: queries get a 1, own keys a 0 and reference keys
 * `shift * sqrt(d)`, so each reference column's logit gains exactly `shift` at the usual scale
 * 1/sqrt(d). MultiHeadAttention's attention_bias would say the same, but it needs a materialised
 * [S, 2S] bias and leaves the kernel's fast path: measured twice the time of the layer.
 */
export function shiftedAttention(
  e: Emitter,
  layer: SelfAttentionLayer,
  query: string,
  ownKeys: string,
  refKeys: string,
  values: string,
  shift: string,
): string {
  const headSize = layer.channels / layer.heads;
  const split = e.ints([0, 0, layer.heads, headSize]);
  const merged = e.ints([0, 0, layer.heads * (headSize + 1)]);
  const lastAxis = e.ints([0, 0, 0, 0, 0, 0, 0, 1]);
  const withChannel = (x: string, fill: string) => e.op('Reshape', [e.op('Pad', [e.op('Reshape', [x, split]), lastAxis, fill]), merged]);
  const refFill = e.op('Mul', [shift, e.float(Math.sqrt(headSize), layer.elemType, [1])]);
  const keys = e.op('Concat', [withChannel(ownKeys, e.float(0, layer.elemType, [1])), withChannel(refKeys, refFill)], {
    axis: { int: 1 },
  });
  const queries = withChannel(query, e.float(1, layer.elemType, [1]));
  const attributes = { num_heads: { int: layer.heads }, scale: { float: 1 / Math.sqrt(headSize) } };
  return e.op('MultiHeadAttention', [queries, keys, values], attributes, 'com.microsoft');
}

/**
 * `full_attention_share`: each consecutive group of `size` items (a CFG half) attends as one
 * image of `size * S` tokens, with no AdaIN, as the reference implementation does.
 */
function fullShare(e: Emitter, layer: SelfAttentionLayer, c: SharingControls): string {
  const merged = e.op('Concat', [e.ints([-1]), e.op('Mul', [c.fullShareSize, e.dim(layer.query, 1)]), e.ints([0])], {
    axis: { int: 0 },
  });
  const group = (x: string) => e.op('Reshape', [x, merged]);
  const attended = attend(e, layer, group(layer.query), group(layer.key), group(layer.value));
  return e.op('Reshape', [attended, e.op('Shape', [layer.query])]);
}

/**
 * A layer's own self-attention, fused: what the export's unfused core computes (softmax(QK^T/sqrt(d))V
 * per head, the default scale of every diffusers attention processor) without writing out its
 * score tensor.
 */
export function plainAttention(e: Emitter, layer: SelfAttentionLayer): string {
  return attend(e, layer, layer.query, layer.key, layer.value);
}

export function attend(e: Emitter, layer: SelfAttentionLayer, query: string, keys: string, values: string): string {
  return e.op('MultiHeadAttention', [query, keys, values], { num_heads: { int: layer.heads } }, 'com.microsoft');
}

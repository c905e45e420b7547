/**
 * diffusers `Attention` as the two exporter generations emit it.
 *
 * 'explicit' (AttnProcessor / the older CrossAttention, traced by torch 1.x): heads folded into
 * the batch, q·kᵀ MatMul, Mul by the scale, Softmax, MatMul with v, heads unfolded.
 *
 * 'sdpa' (AttnProcessor2_0, F.scaled_dot_product_attention exported by torch 2.x): q and k are
 * each multiplied by sqrt(scale), where scale = 1/sqrt(head_dim) is computed from the query's
 * traced shape (Shape, Slice, Cast, Sqrt, Div 1/., Sqrt); k's two transposes fused into one
 * Transpose(0,2,3,1); then MatMul, Softmax, MatMul. This is the subgraph ONNX Runtime's own
 * UNet attention fusion matches for torch 2 exports.
 *
 * In both, the Reshape right after `to_q` takes its shape from a Concat whose input 2 is a
 * Constant holding the head count: that is where the head count is read back.
 */
import { INT64_MAX, type Net } from './net';

export type AttentionPattern = 'sdpa' | 'explicit';

export interface AttentionSpec {
  /** Module path, e.g. `/down_blocks.0/attentions.0/transformer_blocks.0/attn1`. */
  path: string;
  /** [B, S, queryDim] hidden states. */
  x: string;
  /** [B, S_ctx, contextDim] for cross-attention; self-attention when absent. */
  context?: string;
  queryDim: number;
  contextDim: number;
  heads: number;
  /** The VAE's attention has biased projections; the U-Net's q/k/v have none. */
  qkvBias: boolean;
  /** The module's scope when the caller already opened it for ops of its own (the VAE's attention). */
  scope?: string;
}

export function attention(net: Net, pattern: AttentionPattern, spec: AttentionSpec): string {
  return pattern === 'sdpa' ? sdpaAttention(net, spec) : explicitAttention(net, spec);
}

function projections(net: Net, spec: AttentionSpec): [string, string, string] {
  const context = spec.context ?? spec.x;
  const contextDim = spec.context ? spec.contextDim : spec.queryDim;
  return [
    net.linear(`${spec.path}/to_q`, spec.x, spec.queryDim, spec.queryDim, spec.qkvBias),
    net.linear(`${spec.path}/to_k`, context, contextDim, spec.queryDim, spec.qkvBias),
    net.linear(`${spec.path}/to_v`, context, contextDim, spec.queryDim, spec.qkvBias),
  ];
}

function sdpaAttention(net: Net, spec: AttentionSpec): string {
  const { b } = net;
  const scope = spec.scope ?? b.scope(spec.path);
  const { heads } = spec;
  const batch = net.dim(scope, spec.context ?? spec.x, 0);
  const [q, k, v] = projections(net, spec);
  const headDim = b.op(scope, 'Div', [net.dim(scope, k, -1), net.intConst(scope, [], [heads])]);
  const split = (t: string) =>
    b.op(scope, 'Reshape', [t, net.shapeOf(scope, [batch, -1, heads, headDim])], { allowzero: { int: 0 } });
  const toHeads = (t: string) => b.op(scope, 'Transpose', [t], { perm: { ints: [0, 2, 1, 3] } });
  const query = toHeads(split(q));
  const keyRows = split(k);
  const value = toHeads(split(v));

  const lastDim = b.op(scope, 'Slice', [
    b.op(scope, 'Shape', [query]),
    net.intConst(scope, [1], [-1]),
    net.intConst(scope, [1], [INT64_MAX]),
  ]);
  const rootDim = b.op(scope, 'Sqrt', [net.cast(scope, lastDim, net.floatType)]);
  const scale = b.op(scope, 'Div', [net.floatConst(scope, [1], [1]), rootDim]);
  const keyT = b.op(scope, 'Transpose', [keyRows], { perm: { ints: [0, 2, 3, 1] } });
  const scaledQuery = b.op(scope, 'Mul', [query, b.op(scope, 'Sqrt', [scale])]);
  const scaledKey = b.op(scope, 'Mul', [keyT, b.op(scope, 'Sqrt', [scale])]);
  const scores = b.op(scope, 'MatMul', [scaledQuery, scaledKey]);
  const probs = b.op(scope, 'Softmax', [scores], { axis: { int: -1 } });
  const heads4d = b.op(scope, 'MatMul', [probs, value]);

  const merged = b.op(scope, 'Transpose', [heads4d], { perm: { ints: [0, 2, 1, 3] } });
  const inner = b.op(scope, 'Mul', [headDim, net.intConst(scope, [], [heads])]);
  const rows = b.op(scope, 'Reshape', [merged, net.shapeOf(scope, [batch, -1, inner])], { allowzero: { int: 0 } });
  return net.linear(`${spec.path}/to_out.0`, rows, spec.queryDim, spec.queryDim, true);
}

function explicitAttention(net: Net, spec: AttentionSpec): string {
  const { b } = net;
  const scope = spec.scope ?? b.scope(spec.path);
  const { heads } = spec;
  const [q, k, v] = projections(net, spec);

  // head_to_batch_dim: [B, S, H*d] -> [B, S, H, d] -> [B, H, S, d] -> [B*H, S, d]
  const headsToBatch = (t: string) => {
    const batch = net.dim(scope, t, 0);
    const tokens = net.dim(scope, t, 1);
    const headDim = b.op(scope, 'Div', [net.dim(scope, t, 2), net.intConst(scope, [], [heads])]);
    const split = b.op(scope, 'Reshape', [t, net.shapeOf(scope, [batch, tokens, heads, headDim])], { allowzero: { int: 0 } });
    const perm = b.op(scope, 'Transpose', [split], { perm: { ints: [0, 2, 1, 3] } });
    const folded = b.op(scope, 'Mul', [batch, net.intConst(scope, [], [heads])]);
    return b.op(scope, 'Reshape', [perm, net.shapeOf(scope, [folded, tokens, headDim])], { allowzero: { int: 0 } });
  };
  const query = headsToBatch(q);
  const key = headsToBatch(k);
  const value = headsToBatch(v);

  const keyT = b.op(scope, 'Transpose', [key], { perm: { ints: [0, 2, 1] } });
  const scores = b.op(scope, 'MatMul', [query, keyT]);
  const scaled = b.op(scope, 'Mul', [scores, net.floatConst(scope, [], [1 / Math.sqrt(spec.queryDim / heads)])]);
  const probs = b.op(scope, 'Softmax', [scaled], { axis: { int: -1 } });
  const out = b.op(scope, 'MatMul', [probs, value]);

  // batch_to_head_dim: [B*H, S, d] -> [B, H, S, d] -> [B, S, H, d] -> [B, S, H*d]
  const foldedBatch = net.dim(scope, out, 0);
  const tokens = net.dim(scope, out, 1);
  const headDim = net.dim(scope, out, 2);
  const batch = b.op(scope, 'Div', [foldedBatch, net.intConst(scope, [], [heads])]);
  const unfolded = b.op(scope, 'Reshape', [out, net.shapeOf(scope, [batch, heads, tokens, headDim])], { allowzero: { int: 0 } });
  const perm = b.op(scope, 'Transpose', [unfolded], { perm: { ints: [0, 2, 1, 3] } });
  const inner = b.op(scope, 'Mul', [headDim, net.intConst(scope, [], [heads])]);
  const rows = b.op(scope, 'Reshape', [perm, net.shapeOf(scope, [batch, tokens, inner])], { allowzero: { int: 0 } });
  return net.linear(`${spec.path}/to_out.0`, rows, spec.queryDim, spec.queryDim, true);
}

/**
 * CLIPTextModel / CLIPTextModelWithProjection with Optimum's I/O: input_ids [B, S] ->
 * last_hidden_state, pooler_output (or text_embeds), and hidden_states.0..N for SDXL's encoders.
 */
import { DataType } from '../../../packages/daemon/src/onnx';
import type { Net } from './net';
import type { TextEncoderDims } from './options';

export const MAX_POSITIONS = 77;

export function buildTextEncoder(net: Net, dims: TextEncoderDims, vocabSize: number, idsType: 'int32' | 'int64'): void {
  const { b } = net;
  const float = net.floatType;
  const { hidden } = dims;
  const idsInput = b.input('input_ids', idsType === 'int32' ? DataType.INT32 : DataType.INT64, ['batch_size', 'sequence_length']);
  const textModel = '/text_model';
  const scope = b.scope(textModel);
  const tokens = net.dim(scope, idsInput, 1);
  const ids = b.op(scope, 'Reshape', [idsInput, net.shapeOf(scope, [-1, tokens])], { allowzero: { int: 0 } });

  const embeddings = b.scope(`${textModel}/embeddings`);
  const tokenEmbedding = b.op(b.scope(`${textModel}/embeddings/token_embedding`), 'Gather', [
    net.param('text_model.embeddings.token_embedding.weight', [vocabSize, hidden], 0.035),
    ids,
  ]);
  const positionIds = b.op(embeddings, 'Slice', [
    b.parameter('text_model.embeddings.position_ids', DataType.INT64, [1, MAX_POSITIONS], Array.from({ length: MAX_POSITIONS }, (_, i) => i)),
    net.intConst(embeddings, [1], [0]),
    net.unsqueeze(embeddings, tokens, [0]),
    net.intConst(embeddings, [1], [1]),
  ]);
  const positionEmbedding = b.op(b.scope(`${textModel}/embeddings/position_embedding`), 'Gather', [
    net.param('text_model.embeddings.position_embedding.weight', [MAX_POSITIONS, hidden], 0.017),
    positionIds,
  ]);
  let h = b.op(embeddings, 'Add', [tokenEmbedding, positionEmbedding]);

  // Causal mask [S, S]: the dtype's lowest value above the diagonal, 0 elsewhere.
  const lowest = float === DataType.FLOAT16 ? -65504 : -3.4028234663852886e38;
  const filled = b.op(scope, 'ConstantOfShape', [net.shapeOf(scope, [tokens, tokens])], {
    value: { tensor: net.floatTensor([1], [lowest]) },
  });
  const mask = b.op(scope, 'Trilu', [filled, net.intConst(scope, [], [1])], { upper: { int: 1 } });

  const hiddenStates = [h];
  for (let layer = 0; layer < dims.layers; layer++) {
    h = encoderLayer(net, `${textModel}/encoder/layers.${layer}`, h, mask, dims);
    hiddenStates.push(h);
  }
  const last = net.layerNorm(`${textModel}/final_layer_norm`, h, hidden, 1e-5);
  // Pooling at the first end-of-text token, found as the argmax of the ids (it has the largest id).
  const eos = b.op(scope, 'ArgMax', [net.cast(scope, ids, DataType.INT32)], { axis: { int: -1 }, keepdims: { int: 1 } });
  const pooled = b.op(scope, 'GatherND', [last, eos], { batch_dims: { int: 1 } });

  const sequenceDims = ['batch_size', 'sequence_length', hidden];
  if (dims.withProjection) {
    const projection = b.op(b.scope('/text_projection'), 'MatMul', [
      pooled,
      net.folded('MatMul', [hidden, dims.projectionDim], 1 / Math.sqrt(hidden)),
    ]);
    b.output(projection, 'text_embeds', float, ['batch_size', dims.projectionDim]);
    b.output(last, 'last_hidden_state', float, sequenceDims);
  } else {
    b.output(last, 'last_hidden_state', float, sequenceDims);
    b.output(pooled, 'pooler_output', float, ['batch_size', hidden]);
  }
  if (dims.hiddenStates) {
    hiddenStates.forEach((state, i) => b.output(state, `hidden_states.${i}`, float, sequenceDims));
  }
}

function encoderLayer(net: Net, path: string, x: string, mask: string, dims: TextEncoderDims): string {
  const { b } = net;
  const scope = b.scope(path);
  const { hidden } = dims;
  const attended = selfAttention(net, `${path}/self_attn`, net.layerNorm(`${path}/layer_norm1`, x, hidden, 1e-5), mask, dims);
  const h = b.op(scope, 'Add', [x, attended]);
  const mlpInput = net.layerNorm(`${path}/layer_norm2`, h, hidden, 1e-5);
  const up = net.linear(`${path}/mlp/fc1`, mlpInput, hidden, dims.intermediate, true);
  const actScope = b.scope(`${path}/mlp/activation_fn`);
  const activated = dims.act === 'gelu' ? net.gelu(actScope, up) : net.quickGelu(actScope, up);
  return b.op(scope, 'Add', [h, net.linear(`${path}/mlp/fc2`, activated, dims.intermediate, hidden, true)]);
}

/** CLIPAttention: q scaled after q_proj, causal mask added to the scores. */
function selfAttention(net: Net, path: string, x: string, mask: string, dims: TextEncoderDims): string {
  const { b } = net;
  const scope = b.scope(path);
  const { hidden, heads } = dims;
  const headDim = hidden / heads;
  const batch = net.dim(scope, x, 0);
  const tokens = net.dim(scope, x, 1);
  const split = (t: string) =>
    b.op(scope, 'Transpose', [b.op(scope, 'Reshape', [t, net.shapeOf(scope, [batch, -1, heads, headDim])], { allowzero: { int: 0 } })], {
      perm: { ints: [0, 2, 1, 3] },
    });
  const query = b.op(scope, 'Mul', [net.linear(`${path}/q_proj`, x, hidden, hidden, true), net.floatConst(scope, [], [headDim ** -0.5])]);
  const key = net.linear(`${path}/k_proj`, x, hidden, hidden, true);
  const value = net.linear(`${path}/v_proj`, x, hidden, hidden, true);
  const keyT = b.op(scope, 'Transpose', [split(key)], { perm: { ints: [0, 1, 3, 2] } });
  const scores = b.op(scope, 'Add', [b.op(scope, 'MatMul', [split(query), keyT]), mask]);
  const probs = b.op(scope, 'Softmax', [scores], { axis: { int: -1 } });
  const merged = b.op(scope, 'Transpose', [b.op(scope, 'MatMul', [probs, split(value)])], { perm: { ints: [0, 2, 1, 3] } });
  const rows = b.op(scope, 'Reshape', [merged, net.shapeOf(scope, [batch, tokens, hidden])], { allowzero: { int: 0 } });
  return net.linear(`${path}/out_proj`, rows, hidden, hidden, true);
}

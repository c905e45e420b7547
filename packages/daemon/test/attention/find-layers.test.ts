import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { rewriteSharedUnet, sharingFeeds } from '../../src/attention';
import { findSelfAttentionLayers } from '../../src/attention/find-layers';
import { ModelError } from '../../src/errors';
import { DataType, encodeModel, GraphBuilder, type ModelProto } from '../../src/onnx';
import { attentionRoundingBounds, worstBoundRatio } from '../../../../test/support/reference/attention-rounding';
import { sharedAttentionReference } from '../../../../test/support/reference/shared-attention';
import { relativeError } from '../../../../test/support/reference/tiny-unet';

const [TOKENS, CHANNELS, HEADS] = [5, 8, 2];
const HEAD_DIM = CHANNELS / HEADS;

function weights(seed: number, count: number): Float32Array {
  let state = seed;
  return Float32Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  });
}

/**
 * One transformer block whose attn1 is diffusers' old baddbmm form as torch 1.x exports it:
 * heads folded into the batch, `baddbmm(empty, q, kᵀ, beta=0, alpha=scale)` as
 * Add(Mul(ConstantOfShape, 0), Mul(MatMul, scale)), Softmax, MatMul with v. `core` replaces
 * that attention core, for the refusals.
 */
function blockModel(core: 'baddbmm' | 'fused'): ModelProto {
  const b = new GraphBuilder({ graphName: 'torch_jit', opset: 14 });
  const path = '/blocks.0/attn1';
  const scope = b.scope(path);
  const x = b.input('sample', DataType.FLOAT, ['batch', TOKENS, CHANNELS]);
  const linear = (name: string, input: string, seed: number) =>
    b.op(b.scope(`${path}/${name}`), 'MatMul', [input, b.foldedParameter('MatMul', DataType.FLOAT, [CHANNELS, CHANNELS], weights(seed, CHANNELS * CHANNELS))]);
  const [q, k, v] = [linear('to_q', x, 1), linear('to_k', x, 2), linear('to_v', x, 3)];
  const ints = (values: number[], dims = [values.length]) => b.constant(scope, DataType.INT64, dims, values);
  let attended: string;
  if (core === 'baddbmm') {
    const fold = (t: string) => {
      const split = b.op(scope, 'Reshape', [t, ints([0, TOKENS, HEADS, HEAD_DIM])]);
      return b.op(scope, 'Reshape', [b.op(scope, 'Transpose', [split], { perm: { ints: [0, 2, 1, 3] } }), ints([-1, TOKENS, HEAD_DIM])]);
    };
    const [query, key, value] = [fold(q), fold(k), fold(v)];
    const queryShape = b.op(scope, 'Shape', [query]);
    const emptyShape = b.op(scope, 'Concat', [b.op(scope, 'Slice', [queryShape, ints([0]), ints([2])]), ints([TOKENS])], { axis: { int: 0 } });
    const empty = b.op(scope, 'ConstantOfShape', [emptyShape]);
    const scores = b.op(scope, 'MatMul', [query, b.op(scope, 'Transpose', [key], { perm: { ints: [0, 2, 1] } })]);
    const scaled = b.op(scope, 'Mul', [scores, b.constant(scope, DataType.FLOAT, [], [1 / Math.sqrt(HEAD_DIM)])]);
    const beta = b.op(scope, 'Mul', [empty, b.constant(scope, DataType.FLOAT, [], [0])]);
    const probs = b.op(scope, 'Softmax', [b.op(scope, 'Add', [beta, scaled])], { axis: { int: -1 } });
    const out = b.op(scope, 'MatMul', [probs, value]);
    const unfolded = b.op(scope, 'Transpose', [b.op(scope, 'Reshape', [out, ints([-1, HEADS, TOKENS, HEAD_DIM])])], { perm: { ints: [0, 2, 1, 3] } });
    attended = b.op(scope, 'Reshape', [unfolded, ints([0, TOKENS, CHANNELS])]);
  } else {
    attended = b.opMulti(scope, 'MultiHeadAttention', [q, k, v], 1, { num_heads: { int: HEADS } }, 'com.microsoft')[0];
  }
  const projected = linear('to_out.0', attended, 4);
  b.output(b.op(b.scope('/blocks.0'), 'Add', [projected, x]), 'out_sample', DataType.FLOAT, ['batch', TOKENS, CHANNELS]);
  const model = b.build();
  return { ...model, opsetImport: [...model.opsetImport, { domain: 'com.microsoft', version: 1 }] };
}

function caught(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('finding self-attention layers', () => {
  it('recognises the baddbmm form, and its rewrite is plain attention within float32 rounding with sharing off and matches the reference with it on', async () => {
    const model = blockModel('baddbmm');
    const [layer] = findSelfAttentionLayers(model.graph!, 'block');
    expect(layer).toMatchObject({ path: '/blocks.0/attn1', heads: HEADS, channels: CHANNELS });
    expect(layer.core.map((node) => node.opType)).toContain('ConstantOfShape');

    const rewritten = rewriteSharedUnet(model, 'block');
    expect(rewritten.layerCount).toBe(1);
    const exposed = [layer.query, layer.key, layer.value, layer.output];
    const graph = rewritten.model.graph!;
    const withOutputs = { ...rewritten.model, graph: { ...graph, output: [...graph.output, ...exposed.map((name) => ({ name, type: { tensorType: { elemType: DataType.FLOAT } } }))] } };
    const original = await ort.InferenceSession.create(encodeModel(model));
    const shared = await ort.InferenceSession.create(encodeModel(withOutputs));
    const sample = new ort.Tensor('float32', weights(9, 3 * TOKENS * CHANNELS), [3, TOKENS, CHANNELS]);
    const feeds = (options: Parameters<typeof sharingFeeds>[0]) =>
      Object.fromEntries(
        Object.entries(sharingFeeds(options, rewritten, { images: 3, guided: false })).map(([name, feed]) => [
          name,
          'ints' in feed ? new ort.Tensor('int64', BigInt64Array.from(feed.ints, BigInt), feed.dims) : new ort.Tensor('float32', feed.data, feed.dims),
        ]),
      );
    const expected = (await original.run({ sample })).out_sample.data as Float32Array;
    const plain = await shared.run({ sample, ...feeds(null) });
    // Sharing off runs fused attention: the export's function, its sums in another order.
    const tensors = {
      query: plain[layer.query].data as Float32Array,
      key: plain[layer.key].data as Float32Array,
      value: plain[layer.value].data as Float32Array,
      batch: 3,
      tokens: TOKENS,
      channels: CHANNELS,
      heads: HEADS,
    };
    const exact = sharedAttentionReference({ ...tensors, refs: [0, 1, 2], adainQueries: false, adainKeys: false, adainValues: false, shareAttention: false, scoreScale: 1, scoreShift: 0 });
    expect(worstBoundRatio(plain[layer.output].data as Float32Array, exact, attentionRoundingBounds(tensors), tensors)).toBeLessThanOrEqual(1);
    expect(relativeError(plain.out_sample.data as Float32Array, expected)).toBeLessThan(1e-5);

    const options = {
      shareAttention: true,
      adainQueries: true,
      adainKeys: true,
      adainValues: false,
      sharedScoreScale: 1.1,
      sharedScoreShift: 0.3,
      onlySelfLevel: 0,
      fullAttentionShare: false,
      shareGroupNorm: false,
      shareLayerNorm: false,
    };
    const on = await shared.run({ sample, ...feeds(options) });
    const reference = sharedAttentionReference({
      query: on[layer.query].data as Float32Array,
      key: on[layer.key].data as Float32Array,
      value: on[layer.value].data as Float32Array,
      batch: 3,
      tokens: TOKENS,
      channels: CHANNELS,
      heads: HEADS,
      refs: [0, 0, 0],
      adainQueries: true,
      adainKeys: true,
      adainValues: false,
      shareAttention: true,
      scoreScale: 1.1,
      scoreShift: 0.3,
    });
    const actual = on[layer.output].data as Float32Array;
    actual.forEach((value, i) => expect(value).toBeCloseTo(reference[i], 5));
  });

  it('refuses a graph without attn1 modules, listing what it has', () => {
    const b = new GraphBuilder({ graphName: 'main_graph', opset: 14 });
    const x = b.input('x', DataType.FLOAT, [1, 4]);
    b.output(b.op(b.scope('/proj'), 'Softmax', [x]), 'y', DataType.FLOAT, [1, 4]);
    const error = caught(() => rewriteSharedUnet(b.build(), 'tiny.onnx'));
    expect(error).toBeInstanceOf(ModelError);
    expect(error.message).toContain('tiny.onnx');
    expect(error.message).toContain('no node under an `attn1` module');
    expect(error.message).toContain('attention ops in the graph: 1 Softmax');
    expect(error.message).toContain('1 nodes in all');
  });

  it('refuses an attn1 whose attention is already fused, naming the layer and the reason', () => {
    const error = caught(() => rewriteSharedUnet(blockModel('fused'), 'fused.onnx'));
    expect(error).toBeInstanceOf(ModelError);
    expect(error.message).toContain('/blocks.0/attn1: its core has 0 Softmax nodes (expected 1)');
    expect(error.message).toContain('1 MultiHeadAttention');
  });
});

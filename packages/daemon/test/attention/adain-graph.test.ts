import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { adain } from '../../src/attention/adain-graph';
import { Emitter } from '../../src/attention/emitter';
import { DataType, encodeModel, float16ToFloat32, float32ToFloat16, makeValueInfo } from '../../src/onnx';
import { adainReference } from '../../../../test/support/reference/shared-attention';

const [BATCH, TOKENS, CHANNELS] = [3, 4, 2];

async function runAdain(x: Float32Array, refs: number[], elemType: number, opset: number): Promise<Float32Array> {
  const e = new Emitter('/adain', opset);
  const out = adain(e, 'x', 'refs', elemType);
  const model = encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: '', version: opset }],
    graph: {
      name: 'adain',
      node: e.nodes,
      initializer: [],
      input: [makeValueInfo('x', elemType, [BATCH, TOKENS, CHANNELS]), makeValueInfo('refs', DataType.INT64, [BATCH])],
      output: [makeValueInfo(out, elemType, [BATCH, TOKENS, CHANNELS])],
      valueInfo: [],
    },
  });
  const session = await ort.InferenceSession.create(model);
  const half = elemType === DataType.FLOAT16;
  const result = await session.run({
    x: half ? new ort.Tensor('float16', float32ToFloat16(x), [BATCH, TOKENS, CHANNELS]) : new ort.Tensor('float32', x, [BATCH, TOKENS, CHANNELS]),
    refs: new ort.Tensor('int64', BigInt64Array.from(refs, BigInt), [BATCH]),
  });
  const data = result[out].data;
  return half ? float16ToFloat32(data as Uint16Array) : (data as Float32Array);
}

/**
 * Item 0's spread is so small that the 1e-5 in std = sqrt(var + 1e-5) weighs as much as its
 * variance: only the unbiased variance (divided by tokens - 1) gives the reference's numbers.
 */
function input(): Float32Array {
  const x = new Float32Array(BATCH * TOKENS * CHANNELS);
  const rows = [
    [[0.002, 1], [-0.001, 1.5], [0.004, 0.5], [-0.003, 2]],
    [[0.4, -1], [1.3, 0.2], [-0.7, 0.9], [0.1, -0.3]],
    [[5, 3], [7, 2], [6, 4], [4, 3.5]],
  ];
  rows.flat(2).forEach((value, i) => (x[i] = value));
  return x;
}

function nested(x: Float32Array): number[][][] {
  return Array.from({ length: BATCH }, (_, b) =>
    Array.from({ length: TOKENS }, (_, s) => Array.from({ length: CHANNELS }, (_, c) => x[(b * TOKENS + s) * CHANNELS + c])),
  );
}

describe('the AdaIN subgraph', () => {
  const refs = [1, 1, 0];
  const expected = adainReference(nested(input()), refs, CHANNELS).flat(2);

  for (const opset of [14, 18]) {
    it(`matches the reference's unbiased statistics (opset ${opset})`, async () => {
      const actual = await runAdain(input(), refs, DataType.FLOAT, opset);
      actual.forEach((value, i) => expect(value).toBeCloseTo(expected[i], 4));
    });
  }

  it('computes float16 inputs\' statistics in float32', async () => {
    const actual = await runAdain(input(), refs, DataType.FLOAT16, 14);
    // Item 0's variance (~1e-5) is below float16's resolution at its values; float32 statistics keep it.
    actual.forEach((value, i) => expect(Math.abs(value - expected[i])).toBeLessThan(2e-3 * Math.max(1, Math.abs(expected[i]))));
  });
});

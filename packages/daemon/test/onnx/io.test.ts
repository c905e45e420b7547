import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelError } from '../../src/errors';
import {
  attributeValue,
  DataType,
  decodeModel,
  encodeModel,
  externalDataRef,
  float32ToFloat16,
  getAttribute,
  GraphBuilder,
  isExternal,
  readExternalData,
  readModel,
  rebaseExternalData,
  tensorBytes,
  tensorFloat32,
  tensorValues,
  writeModel,
  type ModelProto,
} from '../../src/onnx';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'onnx-io-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const weightValues = Float32Array.from({ length: 64 * 8 }, (_, i) => (i % 17) / 17 - 0.5);
const biasValues = Float32Array.from({ length: 8 }, (_, i) => i / 8);

/** y = x @ W + b, then Slice with INT64_MAX as "to the end": a 2 KiB weight, a 32-byte bias. */
function smallModel(): ModelProto {
  const b = new GraphBuilder({ graphName: 'main_graph', opset: 14 });
  const scope = b.scope('/fc');
  const x = b.input('x', DataType.FLOAT, ['batch', 64]);
  const product = b.op(scope, 'MatMul', [x, b.foldedParameter('MatMul', DataType.FLOAT, [64, 8], weightValues)]);
  const sum = b.op(scope, 'Add', [b.parameter('fc.bias', DataType.FLOAT, [8], biasValues), product]);
  const start = b.constant(scope, DataType.INT64, [1], [2]);
  const end = b.constant(scope, DataType.INT64, [1], [9223372036854775807]);
  const axes = b.constant(scope, DataType.INT64, [1], [-1]);
  const sliced = b.op(scope, 'Slice', [sum, start, end, axes]);
  b.output(sliced, 'y', DataType.FLOAT, ['batch', 6]);
  return b.build();
}

async function runModel(path: string): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(path);
  const x = new ort.Tensor('float32', Float32Array.from({ length: 64 }, (_, i) => i / 64), [1, 64]);
  const { y } = await session.run({ x });
  await session.release();
  return y.data as Float32Array;
}

function expected(): number[] {
  const out: number[] = [];
  for (let j = 2; j < 8; j++) {
    let sum = biasValues[j];
    for (let i = 0; i < 64; i++) sum += (i / 64) * weightValues[i * 8 + j];
    out.push(sum);
  }
  return out;
}

describe('ONNX model I/O', () => {
  it('round-trips a model with inline weights through encode and decode', async () => {
    const model = smallModel();
    const path = join(dir, 'inline', 'model.onnx');
    await writeModel(path, model);
    const read = await readModel(path);
    expect(read.opsetImport).toEqual([{ domain: '', version: 14 }]);
    expect(read.producerName).toBe('pytorch');
    const graph = read.graph!;
    expect(graph.node.map((node) => node.name)).toEqual(model.graph!.node.map((node) => node.name));
    expect(graph.node.map((node) => node.output)).toEqual(model.graph!.node.map((node) => node.output));
    expect(graph.initializer.map((tensor) => tensor.name)).toEqual(['onnx::MatMul_1000', 'fc.bias']);
    expect(tensorFloat32(graph.initializer[0])).toEqual(weightValues);
    const slice = graph.node.find((node) => node.opType === 'Slice')!;
    const end = graph.node.find((node) => node.output[0] === slice.input[2])!;
    // INT64_MAX survives decoding to a JS number and encoding back.
    const endTensor = attributeValue(getAttribute(end, 'value')!) as Parameters<typeof tensorValues>[0];
    expect(Buffer.from(endTensor.rawData!).readBigInt64LE()).toBe(9223372036854775807n);
    expect(Buffer.compare(encodeModel(read), encodeModel(decodeModel(encodeModel(read))))).toBe(0);
    const y = await runModel(path);
    expected().forEach((value, i) => expect(y[i]).toBeCloseTo(value, 5));
  });

  it('writes new external data: big tensors to the file, small ones inline', async () => {
    const path = join(dir, 'external', 'model.onnx');
    await writeModel(path, smallModel(), { externalData: { location: 'model.onnx_data' } });
    const graph = (await readModel(path)).graph!;
    const [weight, bias] = graph.initializer;
    expect(isExternal(weight)).toBe(true);
    expect(externalDataRef(weight)).toEqual({ location: 'model.onnx_data', offset: 0, length: 64 * 8 * 4 });
    expect(isExternal(bias)).toBe(false);
    expect((await stat(join(dir, 'external', 'model.onnx_data'))).size).toBe(64 * 8 * 4);
    expect(new Float32Array((await tensorBytes(join(dir, 'external'), weight)).buffer)).toEqual(weightValues);
    const y = await runModel(path);
    expected().forEach((value, i) => expect(y[i]).toBeCloseTo(value, 5));
  });

  it.each(['model.onnx.data', 'weights.pb'])('accepts the external data name %s', async (location) => {
    const path = join(dir, location, 'model.onnx');
    await writeModel(path, smallModel(), { externalData: { location, sizeThreshold: 0 } });
    const graph = (await readModel(path)).graph!;
    expect(graph.initializer.every(isExternal)).toBe(true);
    expect(graph.initializer.map((tensor) => externalDataRef(tensor).offset)).toEqual([0, 64 * 8 * 4]);
    expect(Array.from(new Float32Array((await readExternalData(join(dir, location), graph.initializer[1])).buffer))).toEqual(
      Array.from(biasValues),
    );
    expect((await runModel(path))[0]).toBeCloseTo(expected()[0], 5);
  });

  it('reads a graph without touching its external data, even when that file cannot be read', async () => {
    const folder = join(dir, 'unreadable');
    const path = join(folder, 'model.onnx');
    await writeModel(path, smallModel(), { externalData: { location: 'model.onnx_data' } });
    // A directory where the data file should be: any attempt to read it fails.
    await rm(join(folder, 'model.onnx_data'));
    await mkdir(join(folder, 'model.onnx_data'));
    const graph = (await readModel(path)).graph!;
    expect(graph.node).toHaveLength(6);
    expect(externalDataRef(graph.initializer[0]).location).toBe('model.onnx_data');
    await expect(tensorBytes(folder, graph.initializer[0])).rejects.toThrow(ModelError);
    await rm(join(folder, 'model.onnx_data'), { recursive: true });
    await expect(tensorBytes(folder, graph.initializer[0])).rejects.toThrow(/model\.onnx_data.*onnx::MatMul_1000/);
  });

  it('writes a graph elsewhere that still references the original external data', async () => {
    const source = join(dir, 'rebase', 'unet');
    await writeModel(join(source, 'model.onnx'), smallModel(), { externalData: { location: 'model.onnx_data' } });
    const model = await readModel(join(source, 'model.onnx'));
    const target = join(dir, 'rebase');
    const moved = { ...model, graph: rebaseExternalData(model.graph!, source, target) };
    await writeModel(join(target, 'rewritten.onnx'), moved);
    expect(externalDataRef(moved.graph.initializer[0]).location).toBe('unet/model.onnx_data');
    expect(await readdir(target)).toEqual(expect.arrayContaining(['rewritten.onnx', 'unet']));
    expect((await runModel(join(target, 'rewritten.onnx')))[0]).toBeCloseTo(expected()[0], 5);
  });

  it('keeps float16 data bit-exact', async () => {
    const b = new GraphBuilder({ graphName: 'g', opset: 14 });
    const halves = float32ToFloat16(Float32Array.from([1, -2, 65504, 2 ** -24]));
    const x = b.input('x', DataType.FLOAT16, [4]);
    b.output(b.op('', 'Add', [x, b.parameter('w', DataType.FLOAT16, [4], halves)]), 'y', DataType.FLOAT16, [4]);
    const read = decodeModel(encodeModel(b.build()));
    expect(tensorValues(read.graph!.initializer[0])).toEqual([1, -2, 65504, 2 ** -24]);
  });

  it('reports files that are not ONNX models as ModelError', async () => {
    const path = join(dir, 'not-a-model.onnx');
    await writeFile(path, 'definitely not protobuf \xff\xff\xff');
    await expect(readModel(path)).rejects.toThrow(ModelError);
    await expect(readModel(join(dir, 'missing.onnx'))).rejects.toThrow(/missing\.onnx/);
    expect(await readFile(path, 'utf8')).toContain('protobuf');
  });
});

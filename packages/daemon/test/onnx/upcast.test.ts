import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AttributeType,
  DataType,
  float16ToFloat32,
  float32ToFloat16,
  GraphBuilder,
  makeNode,
  makeTensor,
  makeValueInfo,
  readModel,
  upcastFloat16ModelFile,
  writeModel,
  type GraphProto,
  type NodeProto,
} from '../../src/onnx';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'onnx-upcast-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const half = (values: number[]) => float32ToFloat16(Float32Array.from(values));

/**
 * y = If(flag, then: h * 2, else: h) with h = x @ W + c + fill, all float16: an external weight,
 * a Constant, a ConstantOfShape, a Cast to float16, and subgraphs that read an outer tensor.
 */
async function writeHalfModel(path: string): Promise<void> {
  const b = new GraphBuilder({ graphName: 'main_graph', opset: 14 });
  const x = b.input('x', DataType.FLOAT16, ['batch', 32]);
  const flag = b.input('flag', DataType.BOOL, []);
  const weight = b.parameter('w', DataType.FLOAT16, [32, 32], half(Array.from({ length: 1024 }, (_, i) => ((i * 7) % 13) / 13 - 0.5)));
  const product = b.op('', 'MatMul', [x, weight]);
  const shifted = b.op('', 'Add', [product, b.constant('', DataType.FLOAT16, [32], half(Array.from({ length: 32 }, (_, i) => i / 32)))]);
  const fill = b.op('', 'ConstantOfShape', [b.op('', 'Shape', [x])], {
    value: { tensor: makeTensor('', DataType.FLOAT16, [1], half([0.125])) },
  });
  const three = b.op('', 'Cast', [b.constant('', DataType.INT64, [], [3])], { to: { int: DataType.FLOAT16 } });
  const h = b.op('', 'Mul', [b.op('', 'Add', [shifted, fill]), three]);
  const branch = (name: string, nodes: NodeProto[], output: string): GraphProto => ({
    name,
    node: nodes,
    initializer: [],
    input: [],
    output: [makeValueInfo(output, DataType.FLOAT16, ['batch', 32])],
    valueInfo: [],
  });
  const doubled = branch(
    'then',
    [
      makeNode('Constant', [], ['two'], { attributes: { value: { tensor: makeTensor('', DataType.FLOAT16, [], half([2])) } } }),
      makeNode('Mul', [h, 'two'], ['doubled']),
    ],
    'doubled',
  );
  const same = branch('else', [makeNode('Identity', [h], ['same'])], 'same');
  const y = b.op('', 'If', [flag], { then_branch: { graph: doubled }, else_branch: { graph: same } });
  b.output(y, 'y', DataType.FLOAT16, ['batch', 32]);
  await writeModel(path, b.build(), { externalData: { location: 'model.onnx_data' } });
}

async function run(path: string, flag: boolean): Promise<{ values: Float32Array; type: string }> {
  const session = await ort.InferenceSession.create(path);
  const x = new ort.Tensor('float16', half(Array.from({ length: 64 }, (_, i) => Math.cos(i))), [2, 32]);
  const { y } = await session.run({ x, flag: new ort.Tensor('bool', Uint8Array.from([flag ? 1 : 0]), []) });
  await session.release();
  return { values: float16ToFloat32(y.data as Uint16Array), type: y.type };
}

describe('upcastFloat16ModelFile', () => {
  it('computes in float32 behind float16 inputs and outputs', async () => {
    const source = join(dir, 'fp16', 'model.onnx');
    const target = join(dir, 'fp32', 'model.onnx');
    await writeHalfModel(source);
    await upcastFloat16ModelFile(source, target);

    const model = await readModel(target);
    const graph = model.graph!;
    expect(graph.input.map((input) => [input.name, input.type?.tensorType?.elemType])).toEqual([
      ['x', DataType.FLOAT16],
      ['flag', DataType.BOOL],
    ]);
    expect(graph.output.map((output) => [output.name, output.type?.tensorType?.elemType])).toEqual([['y', DataType.FLOAT16]]);
    expect(graph.node[0]).toMatchObject({ opType: 'Cast', input: ['x'], output: ['x_float32'] });
    expect(graph.node.at(-1)).toMatchObject({ opType: 'Cast', input: ['y_float32'], output: ['y'] });
    expect(graph.initializer.map((tensor) => [tensor.name, tensor.dataType, tensor.dataLocation])).toEqual([['w', DataType.FLOAT, 1]]);
    const halfLeft = JSON.stringify(graph, (key, value) =>
      (key === 'dataType' || key === 'elemType') && value === DataType.FLOAT16 ? 'HALF' : value,
    ).match(/HALF/g);
    // Only the graph's own input x and output y keep float16 types.
    expect(halfLeft).toHaveLength(2);
    const downcast = graph.node.at(-1)!.attribute[0];
    expect(downcast).toMatchObject({ name: 'to', type: AttributeType.INT, i: DataType.FLOAT16 });

    for (const flag of [true, false]) {
      const original = await run(source, flag);
      const upcast = await run(target, flag);
      expect(upcast.type).toBe('float16');
      original.values.forEach((value, i) => expect(upcast.values[i]).toBeCloseTo(value, 1));
    }
  });

  it('refuses to overwrite the source or the weights it reads', async () => {
    const source = join(dir, 'in-place', 'model.onnx');
    await writeHalfModel(source);
    await expect(upcastFloat16ModelFile(source, source)).rejects.toThrow(/overwrite/);
    await expect(upcastFloat16ModelFile(source, join(dir, 'in-place', 'model32.onnx'), { dataLocation: 'model.onnx_data' })).rejects.toThrow(
      /overwrite/,
    );
    expect((await readModel(source)).graph!.initializer).toHaveLength(1);
  });
});

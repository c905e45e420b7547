import { describe, expect, it } from 'vitest';
import {
  DataType,
  float32ToFloat16,
  GraphBuilder,
  GraphIndex,
  listInitializers,
  listInputs,
  listNodes,
  listOutputs,
  makeNode,
  makeTensor,
  makeValueInfo,
  readConstant,
  tensorTypeOf,
  withExternalData,
  type GraphProto,
} from '../../src/onnx';

function attentionLike(): GraphProto {
  const b = new GraphBuilder({ graphName: 'main_graph', opset: 14 });
  const attn = b.scope('/attn1');
  const x = b.input('hidden', DataType.FLOAT, ['batch', 'tokens', 8]);
  const q = b.op(b.scope('/attn1/to_q'), 'MatMul', [x, b.foldedParameter('MatMul', DataType.FLOAT, [8, 8], new Float32Array(64))]);
  const batch = b.op(attn, 'Gather', [b.op(attn, 'Shape', [q]), b.constant(attn, DataType.INT64, [], [0])], { axis: { int: 0 } });
  const shape = b.op(attn, 'Concat', [
    b.op(attn, 'Unsqueeze', [batch, b.constant(attn, DataType.INT64, [1], [0])]),
    b.constant(attn, DataType.INT64, [1], [-1]),
    b.constant(attn, DataType.INT64, [1], [2]),
    b.constant(attn, DataType.INT64, [1], [4]),
  ], { axis: { int: 0 } });
  const split = b.op(attn, 'Reshape', [q, shape]);
  b.output(b.op(attn, 'Transpose', [split], { perm: { ints: [0, 2, 1, 3] } }), 'out', DataType.FLOAT, ['batch', 2, 'tokens', 4]);
  return b.build().graph!;
}

describe('graph queries', () => {
  it('lists inputs (without initializers listed as inputs), outputs, initializers and nodes', () => {
    const graph = attentionLike();
    // Exports with keep_initializers_as_inputs list every initializer as an input too.
    graph.input.push(makeValueInfo('onnx::MatMul_1000', DataType.FLOAT, [8, 8]));
    expect(listInputs(graph).map((input) => input.name)).toEqual(['hidden']);
    expect(listOutputs(graph).map((output) => output.name)).toEqual(['out']);
    expect(listInitializers(graph).map((tensor) => tensor.name)).toEqual(['onnx::MatMul_1000']);
    expect(listNodes(graph, { opType: 'Reshape' }).map((node) => node.name)).toEqual(['/attn1/Reshape']);
    expect(listNodes(graph, { namePrefix: '/attn1/to_q/' }).map((node) => node.name)).toEqual(['/attn1/to_q/MatMul']);
    expect(tensorTypeOf(listInputs(graph)[0])).toEqual({ elemType: DataType.FLOAT, shape: ['batch', 'tokens', 8] });
  });

  it('finds producers and consumers by tensor name', () => {
    const index = new GraphIndex(attentionLike());
    const toQ = index.node('/attn1/to_q/MatMul')!;
    expect(index.producer(toQ.output[0])).toBe(toQ);
    expect(index.consumers(toQ.output[0]).map((node) => node.name)).toEqual(['/attn1/Shape', '/attn1/Reshape']);
    expect(index.producer('hidden')).toBeUndefined();
    expect(index.consumers('hidden').map((node) => node.name)).toEqual(['/attn1/to_q/MatMul']);
    expect(index.consumers('out')).toEqual([]);
    expect(index.initializer('onnx::MatMul_1000')?.dims).toEqual([8, 8]);
  });

  it('reads the head count from the constants of the Reshape after to_q', () => {
    const index = new GraphIndex(attentionLike());
    const reshape = index.node('/attn1/Reshape')!;
    const concat = index.producer(reshape.input[1])!;
    expect(readConstant(index, concat.input[2])).toEqual({ dataType: DataType.INT64, dims: [1], values: [2] });
    expect(readConstant(index, concat.input[0])).toBeUndefined(); // computed from the batch size
  });

  it('reads every form of constant, inline data only', () => {
    const graph: GraphProto = {
      node: [
        makeNode('Constant', [], ['f'], { attributes: { value_float: { float: 0.5 } } }),
        makeNode('Constant', [], ['fs'], { attributes: { value_floats: { floats: [1, 2] } } }),
        makeNode('Constant', [], ['i'], { attributes: { value_int: { int: -3 } } }),
        makeNode('Constant', [], ['is'], { attributes: { value_ints: { ints: [4, 5] } } }),
        makeNode('Constant', [], ['h'], {
          attributes: { value: { tensor: makeTensor('', DataType.FLOAT16, [2], float32ToFloat16(Float32Array.from([0.25, -1]))) } },
        }),
        makeNode('Constant', [], ['other'], { domain: 'com.example', attributes: { value_int: { int: 1 } } }),
        makeNode('Relu', ['f'], ['computed']),
      ],
      initializer: [
        makeTensor('weights', DataType.FLOAT, [2, 2], [1, 2, 3, 4]),
        withExternalData(makeTensor('far', DataType.FLOAT, [2], [0, 0]), { location: 'w.bin', offset: 0, length: 8 }),
        { name: 'typed', dims: [3], dataType: DataType.INT32, int32Data: [7, 8, 9] },
      ],
      input: [],
      output: [],
      valueInfo: [],
    };
    const index = new GraphIndex(graph);
    expect(readConstant(index, 'f')).toEqual({ dataType: DataType.FLOAT, dims: [], values: [0.5] });
    expect(readConstant(index, 'fs')?.values).toEqual([1, 2]);
    expect(readConstant(index, 'i')).toEqual({ dataType: DataType.INT64, dims: [], values: [-3] });
    expect(readConstant(index, 'is')?.values).toEqual([4, 5]);
    expect(readConstant(index, 'h')).toEqual({ dataType: DataType.FLOAT16, dims: [2], values: [0.25, -1] });
    expect(readConstant(index, 'weights')?.values).toEqual([1, 2, 3, 4]);
    expect(readConstant(index, 'typed')?.values).toEqual([7, 8, 9]);
    expect(readConstant(index, 'far')).toBeUndefined();
    expect(readConstant(index, 'other')).toBeUndefined();
    expect(readConstant(index, 'computed')).toBeUndefined();
  });
});

describe('GraphBuilder naming', () => {
  it('names nodes, outputs and parameters as the TorchScript exporter does', () => {
    const b = new GraphBuilder({ graphName: 'torch_jit', opset: 14, firstAnonymousId: 586 });
    const x = b.input('sample', DataType.FLOAT, ['batch', 4]);
    const resnet = b.scope('/down_blocks.0/resnets.0');
    const silu = (input: string) => {
      const scope = b.scope('/down_blocks.0/resnets.0/nonlinearity');
      return b.op(scope, 'Mul', [input, b.op(scope, 'Sigmoid', [input])]);
    };
    const first = silu(x);
    const second = silu(first);
    const attn = b.scope('/attn1');
    const m0 = b.op(attn, 'MatMul', [first, second]);
    const m1 = b.op(attn, 'MatMul', [m0, m0]);
    const weight = b.foldedParameter('MatMul', DataType.FLOAT, [4, 4], new Float32Array(16));
    const bias = b.parameter('to_out.0.bias', DataType.FLOAT, [4], new Float32Array(4));
    const out = b.op(resnet, 'Add', [bias, b.op(resnet, 'MatMul', [m1, weight])]);
    b.output(out, 'out_sample', DataType.FLOAT, ['batch', 4]);
    const graph = b.build().graph!;

    expect(first).toBe('/down_blocks.0/resnets.0/nonlinearity/Mul_output_0');
    expect(second).toBe('/down_blocks.0/resnets.0/nonlinearity_1/Mul_output_0');
    expect(m1).toBe('/attn1/MatMul_1_output_0');
    expect(weight).toBe('onnx::MatMul_586');
    expect(graph.node.map((node) => node.name)).toEqual([
      '/down_blocks.0/resnets.0/nonlinearity/Sigmoid',
      '/down_blocks.0/resnets.0/nonlinearity/Mul',
      '/down_blocks.0/resnets.0/nonlinearity_1/Sigmoid',
      '/down_blocks.0/resnets.0/nonlinearity_1/Mul',
      '/attn1/MatMul',
      '/attn1/MatMul_1',
      '/down_blocks.0/resnets.0/MatMul',
      '/down_blocks.0/resnets.0/Add',
    ]);
    // The graph output keeps its export name; the node that computes it writes it directly.
    expect(graph.node.at(-1)!.output).toEqual(['out_sample']);
    expect(graph.output.map((output) => output.name)).toEqual(['out_sample']);
    expect(() => b.parameter('to_out.0.bias', DataType.FLOAT, [1], [0])).toThrow(/twice/);
  });
});

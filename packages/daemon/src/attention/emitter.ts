/**
 * Emits the nodes the rewrite adds, named like the exporter's (`<scope>/<Op>`, `_1`, `_2`, ...;
 * outputs `<node>_output_0`) under a scope no export uses, so that every name stays unique across
 * the model and its If branches (ONNX requires single assignment through subgraphs too).
 */
import {
  DataType,
  float32ToFloat16,
  makeNode,
  makeTensor,
  type AttrValue,
  type GraphProto,
  type NodeProto,
  type ValueInfoProto,
} from '../onnx';

export class Emitter {
  readonly nodes: NodeProto[] = [];
  private readonly counts = new Map<string, number>();

  /** `opset`: the model's default-domain opset, which decides how reductions take their axes. */
  constructor(
    readonly scope: string,
    readonly opset: number,
  ) {}

  /** An emitter for a branch graph, in a scope of its own: `<scope>/<name>`, then `_1`, `_2`, ... */
  child(name: string): Emitter {
    return new Emitter(this.uniqueName(name), this.opset);
  }

  op(opType: string, inputs: readonly string[], attributes?: Record<string, AttrValue>, domain?: string): string {
    const name = this.uniqueName(opType);
    const output = `${name}_output_0`;
    this.nodes.push(makeNode(opType, inputs, [output], { name, domain, attributes }));
    return output;
  }

  private uniqueName(name: string): string {
    const key = `${this.scope}/${name}`;
    const count = this.counts.get(key) ?? 0;
    this.counts.set(key, count + 1);
    return count === 0 ? key : `${key}_${count}`;
  }

  ints(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.op('Constant', [], { value: { tensor: makeTensor('', DataType.INT64, dims, values) } });
  }

  /** A float constant of `dataType` (float or float16), as a scalar unless `dims` say otherwise. */
  float(value: number, dataType: number, dims: readonly number[] = []): string {
    const data = new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(value);
    const tensor = makeTensor('', dataType, dims, dataType === DataType.FLOAT16 ? float32ToFloat16(data) : data);
    return this.op('Constant', [], { value: { tensor } });
  }

  cast(x: string, to: number): string {
    return this.op('Cast', [x], { to: { int: to } });
  }

  /** `x.shape[axis]` as a [1] int64 tensor. */
  dim(x: string, axis: number): string {
    return this.op('Slice', [this.op('Shape', [x]), this.ints([axis]), this.ints([axis + 1])]);
  }

  /** ReduceMean/ReduceSumSquare keeping dims: axes are an attribute before opset 18, an input from it. */
  reduce(opType: 'ReduceMean' | 'ReduceSumSquare', x: string, axes: readonly number[]): string {
    if (this.opset >= 18) return this.op(opType, [x, this.ints(axes)], { keepdims: { int: 1 } });
    return this.op(opType, [x], { axes: { ints: axes }, keepdims: { int: 1 } });
  }

  /** An If node whose branches are built by the callbacks, each returning its one output. */
  ifElse(cond: string, elemType: number, thenBranch: (e: Emitter) => string, elseBranch: (e: Emitter) => string): string {
    const thenEmitter = this.child('then');
    const elseEmitter = this.child('else');
    const thenGraph = thenEmitter.graph(thenBranch(thenEmitter), elemType);
    const elseGraph = elseEmitter.graph(elseBranch(elseEmitter), elemType);
    return this.op('If', [cond], { then_branch: { graph: thenGraph }, else_branch: { graph: elseGraph } });
  }

  /** A branch graph made of this emitter's nodes; a branch returns an outer tensor through an Identity. */
  graph(output: string, elemType: number): GraphProto {
    return this.graphOf([output], [elemType]);
  }

  /** A branch graph with several outputs (each an outer tensor, or one named twice, through an Identity). */
  graphOf(outputs: readonly string[], elemTypes: readonly number[]): GraphProto {
    const returned = new Set<string>();
    const results = outputs.map((output) => {
      const produced = this.nodes.some((node) => node.output.includes(output));
      const result = produced && !returned.has(output) ? output : this.op('Identity', [output]);
      returned.add(result);
      return result;
    });
    return { name: this.scope, node: this.nodes, initializer: [], input: [], output: results.map((result, i) => typedValue(result, elemTypes[i])), valueInfo: [] };
  }

  /** An If with one output per entry of `elemTypes`, each branch returning that many tensors. */
  ifElseMany(
    cond: string,
    elemTypes: readonly number[],
    thenBranch: (e: Emitter) => string[],
    elseBranch: (e: Emitter) => string[],
  ): string[] {
    const thenEmitter = this.child('then');
    const elseEmitter = this.child('else');
    const thenGraph = thenEmitter.graphOf(thenBranch(thenEmitter), elemTypes);
    const elseGraph = elseEmitter.graphOf(elseBranch(elseEmitter), elemTypes);
    const name = this.uniqueName('If');
    const outputs = elemTypes.map((_, i) => `${name}_output_${i}`);
    this.nodes.push(makeNode('If', [cond], outputs, { name, attributes: { then_branch: { graph: thenGraph }, else_branch: { graph: elseGraph } } }));
    return outputs;
  }

  /** A tensor with no elements, of `rank` dimensions: what an If branch returns for an output it has nothing for. */
  empty(dataType: number, rank: number): string {
    const dims = new Array<number>(rank).fill(0);
    const data = dataType === DataType.FLOAT16 ? new Uint16Array(0) : dataType === DataType.INT64 ? new BigInt64Array(0) : new Float32Array(0);
    return this.op('Constant', [], { value: { tensor: makeTensor('', dataType, dims, data) } });
  }
}

/** A value info with an element type and no shape (ONNX Runtime infers branch shapes). */
export function typedValue(name: string, elemType: number): ValueInfoProto {
  return { name, type: { tensorType: { elemType } } };
}

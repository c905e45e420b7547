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
    const produced = this.nodes.some((node) => node.output.includes(output));
    const result = produced ? output : this.op('Identity', [output]);
    return { name: this.scope, node: this.nodes, initializer: [], input: [], output: [typedValue(result, elemType)], valueInfo: [] };
  }
}

/** A value info with an element type and no shape (ONNX Runtime infers branch shapes). */
export function typedValue(name: string, elemType: number): ValueInfoProto {
  return { name, type: { tensorType: { elemType } } };
}

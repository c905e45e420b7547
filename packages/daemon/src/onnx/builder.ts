/**
 * Builds graphs named the way PyTorch's TorchScript exporter names them (checked against
 * torch 1.13 exports, opsets 14 and 17; the naming scheme is the same in torch 2.x):
 * - a node is `<module path>/<OpType>`, e.g. `/down_blocks.0/attentions.0/transformer_blocks.0/attn1/to_q/MatMul`;
 *   the root module's nodes are `/<OpType>`;
 * - further nodes of one op type in one module get `_1`, `_2`, ... (`.../attn1/MatMul_1`);
 * - a module called more than once gets `_1`, `_2`, ... on its own name for the later calls
 *   (a resnet's `nonlinearity`, `nonlinearity_1`, `nonlinearity_2`);
 * - outputs are `<node name>_output_<i>`; graph inputs and outputs keep the names given to export;
 * - parameters used as they are keep their state-dict names (`conv_in.weight`, `...to_out.0.bias`);
 *   tensors constant-folded from parameters (a Linear's transposed weight, a GroupNorm weight
 *   unsqueezed to [C,1,1]) become `onnx::<consumer op>_<number>`;
 * - small constants are Constant nodes in the module that uses them, not initializers.
 */
import { makeNode, makeValueInfo, type AttrValue, type Dim } from './node';
import type { GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto } from './proto';
import { makeTensor, type TensorData } from './tensor';

export interface GraphBuilderOptions {
  /** The graph's name: torch 1.x writes `torch_jit`, torch 2.x `main_graph`. */
  graphName: string;
  opset: number;
  producerName?: string;
  producerVersion?: string;
  irVersion?: number;
  /** First number used for `onnx::Op_<number>` names (real exports number them from their value count). */
  firstAnonymousId?: number;
}

export class GraphBuilder {
  private readonly nodes: NodeProto[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private readonly names = new Set<string>();
  private readonly opCounts = new Map<string, number>();
  private readonly scopeCalls = new Map<string, number>();
  private anonymousId: number;

  constructor(private readonly options: GraphBuilderOptions) {
    this.anonymousId = options.firstAnonymousId ?? 1000;
  }

  /**
   * The scope for one call of the module at `path` (`''` is the root module): the path itself on
   * the first call, `path_1`, `path_2`, ... on later calls.
   */
  scope(path: string): string {
    const calls = this.scopeCalls.get(path) ?? 0;
    this.scopeCalls.set(path, calls + 1);
    return calls === 0 ? path : `${path}_${calls}`;
  }

  input(name: string, elemType: number, shape: readonly Dim[]): string {
    this.claim(name);
    this.inputs.push(makeValueInfo(name, elemType, shape));
    return name;
  }

  /** Declares `tensor` a graph output under `name`, renaming it in the nodes that use it. */
  output(tensor: string, name: string, elemType: number, shape: readonly Dim[]): void {
    if (tensor !== name) {
      this.claim(name);
      for (const node of this.nodes) {
        node.output = node.output.map((value) => (value === tensor ? name : value));
        node.input = node.input.map((value) => (value === tensor ? name : value));
      }
    }
    this.outputs.push(makeValueInfo(name, elemType, shape));
  }

  /** An initializer under a parameter's own name. */
  parameter(name: string, dataType: number, dims: readonly number[], data: TensorData | readonly number[]): string {
    this.claim(name);
    this.initializers.push(makeTensor(name, dataType, dims, data));
    return name;
  }

  /** An initializer named as the exporter names folded constants: `onnx::<consumerOp>_<number>`. */
  foldedParameter(
    consumerOp: string,
    dataType: number,
    dims: readonly number[],
    data: TensorData | readonly number[],
  ): string {
    return this.parameter(`onnx::${consumerOp}_${this.anonymousId++}`, dataType, dims, data);
  }

  /** Adds a node with one output and returns the output's name. */
  op(scope: string, opType: string, inputs: readonly string[], attributes?: Record<string, AttrValue>): string {
    return this.opMulti(scope, opType, inputs, 1, attributes)[0];
  }

  opMulti(
    scope: string,
    opType: string,
    inputs: readonly string[],
    outputCount: number,
    attributes?: Record<string, AttrValue>,
    domain?: string,
  ): string[] {
    const key = `${scope}/${opType}`;
    const count = this.opCounts.get(key) ?? 0;
    this.opCounts.set(key, count + 1);
    const name = count === 0 ? key : `${key}_${count}`;
    const outputs = Array.from({ length: outputCount }, (_, i) => `${name}_output_${i}`);
    for (const output of outputs) this.claim(output);
    this.nodes.push(makeNode(opType, inputs, outputs, { name, domain, attributes }));
    return outputs;
  }

  /** A Constant node in `scope` holding `data`. */
  constant(scope: string, dataType: number, dims: readonly number[], data: TensorData | readonly number[]): string {
    return this.op(scope, 'Constant', [], { value: { tensor: makeTensor('', dataType, dims, data) } });
  }

  build(): ModelProto {
    const graph: GraphProto = {
      name: this.options.graphName,
      node: this.nodes,
      initializer: this.initializers,
      input: this.inputs,
      output: this.outputs,
      valueInfo: [],
    };
    return {
      irVersion: this.options.irVersion ?? 8,
      producerName: this.options.producerName ?? 'pytorch',
      producerVersion: this.options.producerVersion ?? '2.1.0',
      opsetImport: [{ domain: '', version: this.options.opset }],
      graph,
    };
  }

  private claim(name: string): void {
    if (this.names.has(name)) throw new Error(`GraphBuilder: the name ${name} is used twice`);
    this.names.add(name);
  }
}

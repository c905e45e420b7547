/** Queries over a graph: listings, producer/consumer lookups, constant values. */
import { attributeValue } from './node';
import { DataType, type GraphProto, type NodeProto, type TensorProto, type ValueInfoProto } from './proto';
import { isExternal, makeTensor, tensorValues } from './tensor';

/** Graph inputs that are real inputs (old exports also list every initializer as an input). */
export function listInputs(graph: GraphProto): ValueInfoProto[] {
  const initializers = new Set(graph.initializer.map((tensor) => tensor.name));
  return graph.input.filter((input) => !initializers.has(input.name));
}

export function listOutputs(graph: GraphProto): ValueInfoProto[] {
  return graph.output;
}

export function listInitializers(graph: GraphProto): TensorProto[] {
  return graph.initializer;
}

/** Nodes in graph order, optionally only those of one op type and/or whose name starts with `namePrefix`. */
export function listNodes(graph: GraphProto, filter: { opType?: string; namePrefix?: string } = {}): NodeProto[] {
  return graph.node.filter(
    (node) =>
      (filter.opType === undefined || node.opType === filter.opType) &&
      (filter.namePrefix === undefined || (node.name ?? '').startsWith(filter.namePrefix)),
  );
}

/**
 * Lookups by name over a snapshot of a graph (of its top level; subgraphs are not indexed).
 * Build a new index after changing the graph.
 */
export class GraphIndex {
  private readonly nodesByName = new Map<string, NodeProto>();
  private readonly producers = new Map<string, NodeProto>();
  private readonly consumerLists = new Map<string, NodeProto[]>();
  private readonly initializers = new Map<string, TensorProto>();

  constructor(readonly graph: GraphProto) {
    for (const tensor of graph.initializer) this.initializers.set(tensor.name ?? '', tensor);
    for (const node of graph.node) {
      if (node.name) this.nodesByName.set(node.name, node);
      for (const output of node.output) if (output) this.producers.set(output, node);
      for (const input of node.input) {
        if (!input) continue;
        const list = this.consumerLists.get(input);
        if (list) list.push(node);
        else this.consumerLists.set(input, [node]);
      }
    }
  }

  node(name: string): NodeProto | undefined {
    return this.nodesByName.get(name);
  }

  /** The node whose output `tensor` is; undefined for graph inputs and initializers. */
  producer(tensor: string): NodeProto | undefined {
    return this.producers.get(tensor);
  }

  /** Nodes that read `tensor`, in graph order (a node reading it twice appears once per read). */
  consumers(tensor: string): NodeProto[] {
    return this.consumerLists.get(tensor) ?? [];
  }

  initializer(name: string): TensorProto | undefined {
    return this.initializers.get(name);
  }
}

export interface ConstantValue {
  dataType: number;
  dims: number[];
  /** Decoded values (int64 as numbers, float16 as their float values). */
  values: number[];
}

/**
 * The value of `tensor` when it is a constant: an inline initializer or the output of a Constant
 * node (any of its value forms). Undefined for computed tensors and for external initializers,
 * whose data this never reads.
 */
export function readConstant(index: GraphIndex, tensor: string): ConstantValue | undefined {
  const initializer = index.initializer(tensor);
  if (initializer) return isExternal(initializer) ? undefined : constantOf(initializer);
  const producer = index.producer(tensor);
  if (producer?.opType !== 'Constant' || (producer.domain ?? '') !== '') return undefined;
  const constant = constantTensor(producer);
  return constant && !isExternal(constant) ? constantOf(constant) : undefined;
}

function constantOf(tensor: TensorProto): ConstantValue {
  return { dataType: tensor.dataType ?? DataType.UNDEFINED, dims: [...tensor.dims], values: tensorValues(tensor) };
}

/** A Constant node's value as a tensor (value_float/value_ints/... become tensors of their type). */
function constantTensor(node: NodeProto): TensorProto | undefined {
  const [attribute] = node.attribute;
  if (!attribute) return undefined;
  const value = attributeValue(attribute);
  switch (attribute.name) {
    case 'value':
      return attribute.t;
    case 'value_float':
      return makeTensor('', DataType.FLOAT, [], [value as number]);
    case 'value_floats':
      return makeTensor('', DataType.FLOAT, [(value as number[]).length], value as number[]);
    case 'value_int':
      return makeTensor('', DataType.INT64, [], [value as number]);
    case 'value_ints':
      return makeTensor('', DataType.INT64, [(value as number[]).length], value as number[]);
    default:
      return undefined;
  }
}

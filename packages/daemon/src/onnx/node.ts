/** Constructors and readers for nodes, attributes and value infos. */
import { AttributeType, type AttributeProto, type GraphProto, type NodeProto, type TensorProto, type ValueInfoProto } from './proto';

/** An attribute value with its ONNX type made explicit (1.0 as float and 1 as int look alike in JS). */
export type AttrValue =
  | { float: number }
  | { int: number }
  | { string: string }
  | { tensor: TensorProto }
  | { graph: GraphProto }
  | { floats: readonly number[] }
  | { ints: readonly number[] }
  | { strings: readonly string[] };

export function makeAttribute(name: string, value: AttrValue): AttributeProto {
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
  if ('int' in value) return { name, type: AttributeType.INT, i: value.int };
  if ('string' in value) return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value.string) };
  if ('tensor' in value) return { name, type: AttributeType.TENSOR, t: value.tensor };
  if ('graph' in value) return { name, type: AttributeType.GRAPH, g: value.graph };
  if ('floats' in value) return { name, type: AttributeType.FLOATS, floats: [...value.floats] };
  if ('ints' in value) return { name, type: AttributeType.INTS, ints: [...value.ints] };
  return { name, type: AttributeType.STRINGS, strings: value.strings.map((text) => new TextEncoder().encode(text)) };
}

export interface MakeNodeOptions {
  name?: string;
  domain?: string;
  attributes?: Record<string, AttrValue>;
}

export function makeNode(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  options: MakeNodeOptions = {},
): NodeProto {
  return {
    ...(options.name !== undefined ? { name: options.name } : {}),
    opType,
    ...(options.domain ? { domain: options.domain } : {}),
    input: [...inputs],
    output: [...outputs],
    attribute: Object.entries(options.attributes ?? {}).map(([name, value]) => makeAttribute(name, value)),
  };
}

export function getAttribute(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute.find((attribute) => attribute.name === name);
}

/** The attribute's value as JS data: number, string, number[], string[], TensorProto or GraphProto. */
export function attributeValue(attribute: AttributeProto): unknown {
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  switch (attribute.type) {
    case AttributeType.FLOAT:
      return attribute.f ?? 0;
    case AttributeType.INT:
      return attribute.i ?? 0;
    case AttributeType.STRING:
      return decode(attribute.s ?? new Uint8Array());
    case AttributeType.TENSOR:
      return attribute.t;
    case AttributeType.GRAPH:
      return attribute.g;
    case AttributeType.FLOATS:
      return attribute.floats ?? [];
    case AttributeType.INTS:
      return attribute.ints ?? [];
    case AttributeType.STRINGS:
      return (attribute.strings ?? []).map(decode);
    default:
      return undefined;
  }
}

/** A dimension: a fixed size, a symbolic name (dynamic), or undefined (unknown). */
export type Dim = number | string | undefined;

export function makeValueInfo(name: string, elemType: number, shape: readonly Dim[]): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: {
          dim: shape.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : dim === undefined ? {} : { dimParam: dim })),
        },
      },
    },
  };
}

export interface TensorTypeInfo {
  elemType: number;
  /** undefined when the rank itself is unknown. */
  shape: Dim[] | undefined;
}

export function tensorTypeOf(info: ValueInfoProto): TensorTypeInfo | undefined {
  const tensorType = info.type?.tensorType;
  if (!tensorType) return undefined;
  const shape = tensorType.shape?.dim.map((dim) => dim.dimParam || dim.dimValue);
  return { elemType: tensorType.elemType ?? 0, shape };
}

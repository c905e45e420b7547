/**
 * The ONNX protobuf schema as plain objects.
 *
 * Messages are decoded with protobufjs and turned into plain objects whose int64 fields are
 * numbers (exact up to 2^53; INT64_MAX/MIN, which exports use as "to the end" in Slice, saturate
 * and are written back unchanged). Repeated fields are always arrays after decoding; objects built
 * here may leave rarely used ones out. `bytes` fields share memory with the decoded buffer.
 *
 * The descriptor `onnx-proto.json` is generated from the vendored `onnx.proto` by
 * `scripts/gen-onnx-proto.mjs`. Fields unknown to that schema (IR > 8) are dropped on decode.
 */
import protobuf from 'protobufjs';
import descriptor from './onnx-proto.json' with { type: 'json' };

export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
} as const;

export const AttributeType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
} as const;

export const DataLocation = { DEFAULT: 0, EXTERNAL: 1 } as const;

export interface StringStringEntryProto {
  key?: string;
  value?: string;
}

export interface OperatorSetIdProto {
  domain?: string;
  version?: number;
}

export interface TensorProto {
  name?: string;
  dims: number[];
  dataType?: number;
  rawData?: Uint8Array;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: number[];
  doubleData?: number[];
  uint64Data?: number[];
  stringData?: Uint8Array[];
  externalData?: StringStringEntryProto[];
  dataLocation?: number;
  docString?: string;
}

export interface Dimension {
  dimValue?: number;
  dimParam?: string;
  denotation?: string;
}

export interface TypeProto {
  tensorType?: { elemType?: number; shape?: { dim: Dimension[] } };
  sequenceType?: unknown;
  mapType?: unknown;
  optionalType?: unknown;
  sparseTensorType?: unknown;
  denotation?: string;
}

export interface ValueInfoProto {
  name?: string;
  type?: TypeProto;
  docString?: string;
}

export interface AttributeProto {
  name?: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
  graphs?: GraphProto[];
  refAttrName?: string;
  docString?: string;
}

export interface NodeProto {
  name?: string;
  opType?: string;
  domain?: string;
  input: string[];
  output: string[];
  attribute: AttributeProto[];
  docString?: string;
}

export interface GraphProto {
  name?: string;
  node: NodeProto[];
  initializer: TensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  valueInfo: ValueInfoProto[];
  sparseInitializer?: unknown[];
  quantizationAnnotation?: unknown[];
  docString?: string;
}

export interface ModelProto {
  irVersion?: number;
  opsetImport: OperatorSetIdProto[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  graph?: GraphProto;
  metadataProps?: StringStringEntryProto[];
  trainingInfo?: unknown[];
  functions?: unknown[];
}

const modelType = protobuf.Root.fromJSON(descriptor).lookupType('onnx.ModelProto');

/** Decodes a serialized ModelProto; throws protobufjs' error on malformed input. */
export function decodeModelProto(bytes: Uint8Array): ModelProto {
  const message = modelType.decode(bytes);
  return modelType.toObject(message, { longs: Number, arrays: true }) as ModelProto;
}

export function encodeModelProto(model: ModelProto): Uint8Array {
  return modelType.encode(modelType.fromObject(model)).finish();
}

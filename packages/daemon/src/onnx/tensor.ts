/**
 * TensorProto construction and decoding of inline data. ONNX stores raw data little-endian; like
 * ONNX Runtime's own JavaScript bindings, this assumes a little-endian host.
 */
import { ModelError } from '../errors';
import { float16BitsToFloat32, float16ToFloat32 } from './float16';
import { DataLocation, DataType, type TensorProto } from './proto';

export type TensorData =
  | Float32Array
  | Float64Array
  | Uint16Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

const elementBytes: Record<number, number> = {
  [DataType.FLOAT]: 4,
  [DataType.UINT8]: 1,
  [DataType.INT8]: 1,
  [DataType.UINT16]: 2,
  [DataType.INT16]: 2,
  [DataType.INT32]: 4,
  [DataType.INT64]: 8,
  [DataType.BOOL]: 1,
  [DataType.FLOAT16]: 2,
  [DataType.DOUBLE]: 8,
  [DataType.UINT32]: 4,
  [DataType.UINT64]: 8,
  [DataType.BFLOAT16]: 2,
};

export function bytesPerElement(dataType: number): number {
  const size = elementBytes[dataType];
  if (size === undefined) throw new ModelError(`ONNX tensor data type ${dataType} has no fixed element size`);
  return size;
}

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((count, dim) => count * dim, 1);
}

export function isExternal(tensor: TensorProto): boolean {
  return tensor.dataLocation === DataLocation.EXTERNAL;
}

function copyBytes(data: ArrayBufferView): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
}

/**
 * A tensor with its data in `rawData`. `data` must be the typed array matching `dataType`
 * (float16 and bfloat16 as Uint16Array bit patterns) or plain numbers, converted to that type.
 */
export function makeTensor(
  name: string,
  dataType: number,
  dims: readonly number[],
  data: TensorData | readonly number[],
): TensorProto {
  const count = elementCount(dims);
  if (data.length !== count) {
    throw new RangeError(`tensor ${name}: ${data.length} values for dims [${dims.join(', ')}]`);
  }
  const typed = ArrayBuffer.isView(data) ? data : typedFromNumbers(dataType, data);
  if (typed.byteLength !== count * bytesPerElement(dataType)) {
    throw new RangeError(`tensor ${name}: ${typed.constructor.name} does not hold data type ${dataType}`);
  }
  return { name, dataType, dims: [...dims], rawData: copyBytes(typed) };
}

/** int64 from a JS number, saturating: INT64_MAX read as a number (2^63) must come back as INT64_MAX. */
function toInt64(value: number): bigint {
  if (value >= 2 ** 63) return 0x7fffffffffffffffn;
  if (value <= -(2 ** 63)) return -0x8000000000000000n;
  return BigInt(value);
}

function typedFromNumbers(dataType: number, values: readonly number[]): TensorData {
  switch (dataType) {
    case DataType.FLOAT:
      return Float32Array.from(values);
    case DataType.DOUBLE:
      return Float64Array.from(values);
    case DataType.INT64:
      return BigInt64Array.from(values, toInt64);
    case DataType.UINT64:
      return BigUint64Array.from(values, (value) => BigInt(value));
    case DataType.INT32:
      return Int32Array.from(values);
    case DataType.UINT32:
      return Uint32Array.from(values);
    case DataType.INT16:
      return Int16Array.from(values);
    case DataType.UINT16:
      return Uint16Array.from(values);
    case DataType.INT8:
      return Int8Array.from(values);
    case DataType.UINT8:
    case DataType.BOOL:
      return Uint8Array.from(values);
    default:
      throw new RangeError(`makeTensor: give data type ${dataType} as its typed array (e.g. float16 as Uint16Array bits)`);
  }
}

/** The tensor's data as little-endian bytes; inline tensors only (external data is read elsewhere). */
export function inlineBytes(tensor: TensorProto): Uint8Array {
  if (isExternal(tensor)) throw new ModelError(`tensor ${tensor.name} keeps its data in an external file`);
  if (tensor.rawData && tensor.rawData.byteLength > 0) return tensor.rawData;
  const dataType = tensor.dataType ?? DataType.UNDEFINED;
  const count = elementCount(tensor.dims);
  // Typed fields: float_data (float), int32_data (int32 and everything narrower, float16 as bits),
  // int64_data, double_data, uint64_data (uint32/uint64).
  switch (dataType) {
    case DataType.FLOAT:
      return copyBytes(Float32Array.from(tensor.floatData ?? []));
    case DataType.DOUBLE:
      return copyBytes(Float64Array.from(tensor.doubleData ?? []));
    case DataType.INT64:
      return copyBytes(BigInt64Array.from(tensor.int64Data ?? [], toInt64));
    case DataType.UINT64:
      return copyBytes(BigUint64Array.from(tensor.uint64Data ?? [], (value) => BigInt(value)));
    case DataType.UINT32:
      return copyBytes(Uint32Array.from(tensor.uint64Data ?? []));
    case DataType.INT32:
      return copyBytes(Int32Array.from(tensor.int32Data ?? []));
    case DataType.INT16:
      return copyBytes(Int16Array.from(tensor.int32Data ?? []));
    case DataType.UINT16:
    case DataType.FLOAT16:
    case DataType.BFLOAT16:
      return copyBytes(Uint16Array.from(tensor.int32Data ?? []));
    case DataType.INT8:
      return copyBytes(Int8Array.from(tensor.int32Data ?? []));
    case DataType.UINT8:
    case DataType.BOOL:
      return copyBytes(Uint8Array.from(tensor.int32Data ?? []));
    default:
      if (count === 0) return new Uint8Array(0);
      throw new ModelError(`tensor ${tensor.name}: data type ${dataType} is not supported`);
  }
}

/** Views little-endian bytes as the typed array of `dataType` (copying only to fix alignment). */
export function typedView(dataType: number, bytes: Uint8Array): TensorData {
  const size = bytesPerElement(dataType);
  // Decoded bytes are Node Buffers, whose slice() shares memory: copy through the constructor.
  const aligned = bytes.byteOffset % size === 0 ? bytes : new Uint8Array(bytes);
  const { buffer, byteOffset } = aligned;
  const length = aligned.byteLength / size;
  switch (dataType) {
    case DataType.FLOAT:
      return new Float32Array(buffer, byteOffset, length);
    case DataType.DOUBLE:
      return new Float64Array(buffer, byteOffset, length);
    case DataType.INT64:
      return new BigInt64Array(buffer, byteOffset, length);
    case DataType.UINT64:
      return new BigUint64Array(buffer, byteOffset, length);
    case DataType.INT32:
      return new Int32Array(buffer, byteOffset, length);
    case DataType.UINT32:
      return new Uint32Array(buffer, byteOffset, length);
    case DataType.INT16:
      return new Int16Array(buffer, byteOffset, length);
    case DataType.UINT16:
    case DataType.FLOAT16:
    case DataType.BFLOAT16:
      return new Uint16Array(buffer, byteOffset, length);
    case DataType.INT8:
      return new Int8Array(buffer, byteOffset, length);
    default:
      return new Uint8Array(buffer, byteOffset, length);
  }
}

/** Inline tensor data as numbers (int64 converted, float16/bfloat16 decoded): for small constants. */
export function tensorValues(tensor: TensorProto): number[] {
  const dataType = tensor.dataType ?? DataType.UNDEFINED;
  const typed = typedView(dataType, inlineBytes(tensor));
  if (dataType === DataType.FLOAT16) return Array.from(typed as Uint16Array, float16BitsToFloat32);
  if (dataType === DataType.BFLOAT16) return Array.from(typed as Uint16Array, (bits) => bfloat16ToNumber(bits));
  if (typed instanceof BigInt64Array || typed instanceof BigUint64Array) return Array.from(typed, Number);
  return Array.from(typed);
}

function bfloat16ToNumber(bits: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, bits << 16, true);
  return view.getFloat32(0, true);
}

/** Inline float, float16 or double tensor data as float32: for weights. */
export function tensorFloat32(tensor: TensorProto): Float32Array {
  const dataType = tensor.dataType ?? DataType.UNDEFINED;
  const bytes = inlineBytes(tensor);
  if (dataType === DataType.FLOAT) return typedView(dataType, bytes).slice() as Float32Array;
  if (dataType === DataType.FLOAT16) return float16ToFloat32(typedView(dataType, bytes) as Uint16Array);
  if (dataType === DataType.DOUBLE) return Float32Array.from(typedView(dataType, bytes) as Float64Array);
  throw new ModelError(`tensor ${tensor.name}: expected float data, found data type ${dataType}`);
}

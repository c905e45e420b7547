/**
 * Tensors whose data lives in a separate file (TensorProto.data_location = EXTERNAL), as large
 * exports keep their weights (`model.onnx_data`, `model.onnx.data`, `weights.pb`, ...). The
 * `location` is relative to the directory of the .onnx file that references it.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { ModelError } from '../errors';
import { DataLocation, type GraphProto, type TensorProto } from './proto';
import { bytesPerElement, elementCount, inlineBytes, isExternal } from './tensor';

export interface ExternalDataRef {
  location: string;
  offset: number;
  length: number;
}

/** Where an external tensor's bytes are; `length` defaults to the size its dims and type imply. */
export function externalDataRef(tensor: TensorProto): ExternalDataRef {
  if (!isExternal(tensor)) throw new ModelError(`tensor ${tensor.name} has inline data, not external data`);
  const entries = new Map((tensor.externalData ?? []).map((entry) => [entry.key ?? '', entry.value ?? '']));
  const location = entries.get('location');
  if (!location) throw new ModelError(`tensor ${tensor.name}: external data without a location`);
  const offset = Number(entries.get('offset') ?? '0');
  const length = entries.has('length')
    ? Number(entries.get('length'))
    : elementCount(tensor.dims) * bytesPerElement(tensor.dataType ?? 0);
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new ModelError(`tensor ${tensor.name}: external data offset/length must be non-negative integers`);
  }
  return { location, offset, length };
}

/** A copy of `tensor` pointing at `ref` instead of holding its data. */
export function withExternalData(tensor: TensorProto, ref: ExternalDataRef): TensorProto {
  return {
    name: tensor.name,
    dims: tensor.dims,
    dataType: tensor.dataType,
    ...(tensor.docString ? { docString: tensor.docString } : {}),
    dataLocation: DataLocation.EXTERNAL,
    externalData: [
      { key: 'location', value: ref.location },
      { key: 'offset', value: String(ref.offset) },
      { key: 'length', value: String(ref.length) },
    ],
  };
}

/** Reads one external tensor's bytes, and only those, from the file next to the model. */
export async function readExternalData(modelDir: string, tensor: TensorProto): Promise<Uint8Array> {
  const ref = externalDataRef(tensor);
  const path = join(modelDir, ref.location);
  let file: FileHandle | undefined;
  try {
    file = await open(path, 'r');
    const bytes = new Uint8Array(ref.length);
    const { bytesRead } = await file.read(bytes, 0, ref.length, ref.offset);
    if (bytesRead !== ref.length) {
      throw new ModelError(
        `external data ${path} ends before tensor ${tensor.name} (offset ${ref.offset}, length ${ref.length})`,
      );
    }
    return bytes;
  } catch (cause) {
    if (cause instanceof ModelError) throw cause;
    throw new ModelError(`cannot read external data ${path} of tensor ${tensor.name}`, { cause });
  } finally {
    await file?.close();
  }
}

/** A tensor's bytes wherever they are kept. */
export async function tensorBytes(modelDir: string, tensor: TensorProto): Promise<Uint8Array> {
  return isExternal(tensor) ? readExternalData(modelDir, tensor) : inlineBytes(tensor);
}

/** Writes one new external data file, tensor by tensor, as they are appended. */
export class ExternalDataWriter {
  private size = 0;

  private constructor(
    readonly location: string,
    private readonly file: FileHandle,
  ) {}

  /** Creates (or truncates) `location` inside `modelDir`, the directory of the .onnx file that will reference it. */
  static async create(modelDir: string, location: string): Promise<ExternalDataWriter> {
    return new ExternalDataWriter(location, await open(join(modelDir, location), 'w'));
  }

  async append(bytes: Uint8Array): Promise<ExternalDataRef> {
    const ref = { location: this.location, offset: this.size, length: bytes.byteLength };
    let written = 0;
    while (written < bytes.byteLength) {
      written += (await this.file.write(bytes, written, bytes.byteLength - written, this.size + written)).bytesWritten;
    }
    this.size += bytes.byteLength;
    return ref;
  }

  async close(): Promise<void> {
    await this.file.close();
  }
}

/**
 * Moves inline initializers of at least `sizeThreshold` bytes into `writer` (the default 1024 is
 * onnx.save's: small tensors such as biases stay inline, as in real exports). Returns a new graph.
 */
export async function externalizeInitializers(
  graph: GraphProto,
  writer: ExternalDataWriter,
  sizeThreshold = 1024,
): Promise<GraphProto> {
  const initializer: TensorProto[] = [];
  for (const tensor of graph.initializer) {
    const bytes = isExternal(tensor) ? undefined : inlineBytes(tensor);
    initializer.push(
      bytes === undefined || bytes.byteLength < sizeThreshold ? tensor : withExternalData(tensor, await writer.append(bytes)),
    );
  }
  return { ...graph, initializer };
}

/**
 * Rewrites external locations of a graph read from `fromDir` so that it can be written into `toDir`
 * and still reference the same files. ONNX Runtime refuses locations that leave the model's
 * directory, so a graph written elsewhere must sit in the data's directory or one above it.
 */
export function rebaseExternalData(graph: GraphProto, fromDir: string, toDir: string): GraphProto {
  const initializer = graph.initializer.map((tensor) => {
    if (!isExternal(tensor)) return tensor;
    const ref = externalDataRef(tensor);
    const location = relative(resolve(toDir), resolve(fromDir, ref.location)).split(sep).join('/');
    return withExternalData(tensor, { ...ref, location });
  });
  return { ...graph, initializer };
}

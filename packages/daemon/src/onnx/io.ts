/**
 * Reading and writing .onnx files. Reading parses the model file only: external weight files are
 * never opened (read a tensor's bytes with `tensorBytes` when they are needed).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ModelError } from '../errors';
import { ExternalDataWriter, externalizeInitializers } from './external-data';
import { decodeModelProto, encodeModelProto, type ModelProto } from './proto';

export function decodeModel(bytes: Uint8Array, source = 'ONNX model'): ModelProto {
  let model: ModelProto;
  try {
    model = decodeModelProto(bytes);
  } catch (cause) {
    throw new ModelError(`${source} is not a valid ONNX model (protobuf decoding failed)`, { cause });
  }
  if (!model.graph) throw new ModelError(`${source} is not a valid ONNX model (it has no graph)`);
  return model;
}

export function encodeModel(model: ModelProto): Uint8Array {
  return encodeModelProto(model);
}

export async function readModel(path: string): Promise<ModelProto> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new ModelError(`cannot read ONNX model ${path}`, { cause });
  }
  return decodeModel(bytes, path);
}

export interface WriteModelOptions {
  /**
   * Write initializers of at least `sizeThreshold` bytes (default 1024) to a new file `location`
   * next to the model, instead of inline. Tensors that are external already keep their references.
   */
  externalData?: { location: string; sizeThreshold?: number };
}

export async function writeModel(path: string, model: ModelProto, options: WriteModelOptions = {}): Promise<void> {
  if (!model.graph) throw new ModelError(`cannot write ${path}: the model has no graph`);
  await mkdir(dirname(path), { recursive: true });
  let toWrite = model;
  if (options.externalData) {
    const writer = await ExternalDataWriter.create(dirname(path), options.externalData.location);
    try {
      toWrite = { ...model, graph: await externalizeInitializers(model.graph, writer, options.externalData.sizeThreshold) };
    } finally {
      await writer.close();
    }
  }
  await writeFile(path, encodeModel(toWrite));
}

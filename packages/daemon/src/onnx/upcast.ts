/**
 * float16 models (`optimum-cli export onnx --fp16`) computing in float32.
 *
 * ONNX Runtime's CPU provider does run float16 graphs: it wraps every node that has no float16 CPU
 * kernel (MatMul, Conv, InstanceNormalization, ...) in Casts to float32 and back. Measured on a
 * tiny SD 1 U-Net (onnxruntime-node 1.30, 2 cores) that costs about 1.6x the float32 model's time.
 * Upcasting once ahead of time removes those Casts. The graph inputs and outputs stay float16
 * (one Cast after each input, one before each output), so callers feed the model as exported.
 */
import { mkdir } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { ExternalDataWriter, externalDataRef, tensorBytes, withExternalData } from './external-data';
import { float16ToFloat32 } from './float16';
import { readModel, writeModel } from './io';
import { makeNode } from './node';
import {
  AttributeType,
  DataType,
  type AttributeProto,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from './proto';
import { inlineBytes, isExternal, typedView } from './tensor';

export interface UpcastOptions {
  /** Name of the new external data file next to the target (default `<target file name>_data`). */
  dataLocation?: string;
  /** Converted tensors of at least this many bytes go to the external file (default 1024). */
  sizeThreshold?: number;
}

/**
 * Writes `targetPath`: the model at `sourcePath` with every float16 tensor, constant and type made
 * float32, and its weights (all of them, converted or not) in one new external data file next to
 * it. Reads the source's weights one tensor at a time.
 */
export async function upcastFloat16ModelFile(sourcePath: string, targetPath: string, options: UpcastOptions = {}): Promise<void> {
  if (resolve(targetPath) === resolve(sourcePath)) {
    throw new Error(`upcastFloat16ModelFile: writing ${targetPath} would overwrite the source model`);
  }
  await upcastFloat16Model(await readModel(sourcePath), dirname(sourcePath), targetPath, options);
}

/**
 * `upcastFloat16ModelFile` for a model already parsed (and perhaps rewritten) whose external
 * weights are relative to `sourceDir`.
 */
export async function upcastFloat16Model(model: ModelProto, sourceDir: string, targetPath: string, options: UpcastOptions = {}): Promise<void> {
  const dataLocation = options.dataLocation ?? `${basename(targetPath)}_data`;
  // Creating the new data file truncates it: it must not be a file the source still reads from.
  const dataPath = resolve(dirname(targetPath), dataLocation);
  const sourceFiles = model.graph!.initializer.filter(isExternal).map((tensor) => resolve(sourceDir, externalDataRef(tensor).location));
  if (sourceFiles.includes(dataPath) || sourceFiles.includes(resolve(targetPath))) {
    throw new Error(`upcastFloat16Model: writing ${targetPath} would overwrite the source model's weights`);
  }
  await mkdir(dirname(targetPath), { recursive: true });
  const threshold = options.sizeThreshold ?? 1024;
  const writer = await ExternalDataWriter.create(dirname(targetPath), dataLocation);
  let graph: GraphProto;
  try {
    graph = await upcastGraph(model.graph!, true, async (tensor) => {
      if (tensor.dataType !== DataType.FLOAT16 && !isExternal(tensor)) return tensor;
      const bytes = await tensorBytes(sourceDir, tensor);
      const converted = tensor.dataType === DataType.FLOAT16 ? float32Bytes(bytes) : bytes;
      const dataType = tensor.dataType === DataType.FLOAT16 ? DataType.FLOAT : tensor.dataType;
      const inline: TensorProto = { name: tensor.name, dims: tensor.dims, dataType, rawData: converted };
      return converted.byteLength < threshold ? inline : withExternalData(inline, await writer.append(converted));
    });
  } finally {
    await writer.close();
  }
  await writeModel(targetPath, { ...model, graph });
}

/** Whether the main graph computes in float16: a float16 input, output or weight. */
export function hasFloat16(model: ModelProto): boolean {
  const graph = model.graph!;
  const io = [...graph.input, ...graph.output].some((info) => info.type?.tensorType?.elemType === DataType.FLOAT16);
  return io || graph.initializer.some((tensor) => tensor.dataType === DataType.FLOAT16);
}

function float32Bytes(halfBytes: Uint8Array): Uint8Array {
  const floats = float16ToFloat32(typedView(DataType.FLOAT16, halfBytes) as Uint16Array);
  return new Uint8Array(floats.buffer);
}

function upcastInlineTensor(tensor: TensorProto): TensorProto {
  if (tensor.dataType !== DataType.FLOAT16) return tensor;
  return { name: tensor.name, dims: tensor.dims, dataType: DataType.FLOAT, rawData: float32Bytes(inlineBytes(tensor)) };
}

function upcastType(info: ValueInfoProto): ValueInfoProto {
  const tensorType = info.type?.tensorType;
  if (tensorType?.elemType !== DataType.FLOAT16) return info;
  return { ...info, type: { ...info.type, tensorType: { ...tensorType, elemType: DataType.FLOAT } } };
}

async function upcastGraph(
  graph: GraphProto,
  isMain: boolean,
  upcastInitializer: (tensor: TensorProto) => Promise<TensorProto>,
): Promise<GraphProto> {
  const initializer: TensorProto[] = [];
  for (const tensor of graph.initializer) initializer.push(await upcastInitializer(tensor));
  const node: NodeProto[] = [];
  for (const original of graph.node) node.push(await upcastNode(original, upcastInitializer));
  const upcast: GraphProto = {
    ...graph,
    initializer,
    node,
    valueInfo: graph.valueInfo.map(upcastType),
  };
  if (!isMain) return { ...upcast, input: graph.input.map(upcastType), output: graph.output.map(upcastType) };
  return castAtBoundary(upcast, new Set(initializer.map((tensor) => tensor.name)));
}

async function upcastNode(node: NodeProto, upcastInitializer: (tensor: TensorProto) => Promise<TensorProto>): Promise<NodeProto> {
  const attribute: AttributeProto[] = [];
  for (const original of node.attribute) {
    let value = original;
    // Cast's `to`, and `dtype` of RandomNormal(Like), EyeLike, Bernoulli, ...: the output type.
    if (value.type === AttributeType.INT && (value.name === 'to' || value.name === 'dtype') && value.i === DataType.FLOAT16) {
      value = { ...value, i: DataType.FLOAT };
    }
    if (value.type === AttributeType.TENSOR && value.t) value = { ...value, t: upcastInlineTensor(value.t) };
    if (value.type === AttributeType.TENSORS) value = { ...value, tensors: (value.tensors ?? []).map(upcastInlineTensor) };
    if (value.type === AttributeType.GRAPH && value.g) value = { ...value, g: await upcastGraph(value.g, false, upcastInitializer) };
    if (value.type === AttributeType.GRAPHS) {
      const graphs: GraphProto[] = [];
      for (const graph of value.graphs ?? []) graphs.push(await upcastGraph(graph, false, upcastInitializer));
      value = { ...value, graphs };
    }
    attribute.push(value);
  }
  return { ...node, attribute };
}

/** Keeps float16 graph inputs and outputs: Cast each input up on entry and each output down on exit. */
function castAtBoundary(graph: GraphProto, initializers: Set<string | undefined>): GraphProto {
  const renames = new Map<string, string>();
  const entry: NodeProto[] = [];
  const exit: NodeProto[] = [];
  const input = graph.input.map((info) => {
    if (initializers.has(info.name)) return upcastType(info);
    if (info.type?.tensorType?.elemType === DataType.FLOAT16 && info.name) {
      const upcast = `${info.name}_float32`;
      renames.set(info.name, upcast);
      entry.push(makeNode('Cast', [info.name], [upcast], { name: `Upcast_${info.name}`, attributes: { to: { int: DataType.FLOAT } } }));
    }
    return info;
  });
  for (const info of graph.output) {
    if (info.type?.tensorType?.elemType !== DataType.FLOAT16 || !info.name) continue;
    const computed = `${info.name}_float32`;
    renames.set(info.name, computed);
    exit.push(makeNode('Cast', [computed], [info.name], { name: `Downcast_${info.name}`, attributes: { to: { int: DataType.FLOAT16 } } }));
  }
  const node = graph.node.map((original) => renameTensors(original, renames));
  return { ...graph, input, node: [...entry, ...node, ...exit] };
}

/** Renames tensors a node reads or writes, including reads from inside its subgraphs. */
function renameTensors(node: NodeProto, renames: Map<string, string>): NodeProto {
  const rename = (name: string) => renames.get(name) ?? name;
  const attribute = node.attribute.map((value) => {
    if (value.g) return { ...value, g: renameInGraph(value.g, renames) };
    if (value.graphs?.length) return { ...value, graphs: value.graphs.map((graph) => renameInGraph(graph, renames)) };
    return value;
  });
  return { ...node, input: node.input.map(rename), output: node.output.map(rename), attribute };
}

/** In a subgraph, names from the outer scope can only be read (or passed through as outputs). */
function renameInGraph(graph: GraphProto, renames: Map<string, string>): GraphProto {
  return {
    ...graph,
    node: graph.node.map((node) => renameTensors(node, renames)),
    output: graph.output.map((info) => ({ ...info, name: renames.get(info.name ?? '') ?? info.name })),
  };
}

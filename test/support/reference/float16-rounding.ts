/**
 * Bounds for float16 models derived from float16 rounding, not from which of two kernel paths a
 * CPU takes. A float16 export upcast to float32 should compute what the float32 export computes
 * on the float16 export's numbers: its weights and constants and its inputs rounded to float16.
 * `roundedFloat32Model` writes that model independently of the upcast (the float32 export with
 * each float tensor rounded), so the only rounding left between the two is the float16 output's.
 */
import { existsSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  DataType,
  float16ToFloat32,
  float32ToFloat16,
  inlineBytes,
  makeNode,
  readModel,
  tensorBytes,
  typedView,
  writeModel,
  type GraphProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from '../../../packages/daemon/src/onnx';
import type { Feed } from '../../../packages/daemon/src/model/tensor';

/** Each value rounded to the nearest float16 (ties to even), as a float16 tensor or input holds it. */
export function roundToFloat16(values: Float32Array): Float32Array {
  return float16ToFloat32(float32ToFloat16(values));
}

/** The same feeds with every float tensor rounded to float16 (what a float16 input receives). */
export function roundFeedsToFloat16(feeds: Record<string, Feed>): Record<string, Feed> {
  return Object.fromEntries(
    Object.entries(feeds).map(([name, feed]) => [name, 'data' in feed ? { data: roundToFloat16(feed.data), dims: feed.dims } : feed]),
  );
}

function roundedTensor(tensor: TensorProto, bytes: Uint8Array): TensorProto {
  const rounded = roundToFloat16(typedView(DataType.FLOAT, bytes) as Float32Array);
  return { name: tensor.name, dims: tensor.dims, dataType: DataType.FLOAT, rawData: new Uint8Array(rounded.buffer) };
}

/** Node name + attribute name of every float16 tensor attribute (Constant values, ConstantOfShape fills). */
function float16Attributes(nodes: readonly NodeProto[]): Set<string> {
  return new Set(nodes.flatMap((node) => node.attribute.filter((a) => a.t?.dataType === DataType.FLOAT16).map((a) => `${node.name}:${a.name}`)));
}

/** Routes every use of the float tensors in `names` through a float16 round trip (Cast pairs). */
function roundAtBoundary(graph: GraphProto, inputs: ReadonlySet<string>, outputs: ReadonlySet<string>): GraphProto {
  const renames = new Map<string, string>();
  const entry: NodeProto[] = [];
  const exit: NodeProto[] = [];
  const roundTrip = (from: string, to: string) => [
    makeNode('Cast', [from], [`${to}_float16`], { name: `RoundTrip_${to}_0`, attributes: { to: { int: DataType.FLOAT16 } } }),
    makeNode('Cast', [`${to}_float16`], [to], { name: `RoundTrip_${to}_1`, attributes: { to: { int: DataType.FLOAT } } }),
  ];
  for (const name of inputs) {
    renames.set(name, `${name}_rounded`);
    entry.push(...roundTrip(name, `${name}_rounded`));
  }
  for (const name of outputs) {
    renames.set(name, `${name}_unrounded`);
    exit.push(...roundTrip(`${name}_unrounded`, name));
  }
  const rename = (tensor: string) => renames.get(tensor) ?? tensor;
  const node = graph.node.map((n) => ({ ...n, input: n.input.map(rename), output: n.output.map(rename) }));
  return { ...graph, node: [...entry, ...node, ...exit] };
}

const float16Io = (infos: readonly ValueInfoProto[]) =>
  new Set(infos.filter((info) => info.type?.tensorType?.elemType === DataType.FLOAT16).map((info) => info.name ?? ''));

/**
 * Writes to `targetPath` the float32 model at `float32Path` with each float tensor that the float16
 * export at `float16Path` holds in float16 (weights and constants, matched by name) rounded to
 * float16 and kept as float32; tensors the export keeps in float32 (a sinusoid's exponents) stay
 * as they are. With `roundIo`, the inputs and outputs that are float16 in the export are rounded
 * too, inside the graph, so the model keeps float32 I/O. Its weights go to `model.onnx_data`.
 */
export async function roundedFloat32Model(float32Path: string, float16Path: string, targetPath: string, roundIo = false): Promise<void> {
  const model = await readModel(float32Path);
  const guide = (await readModel(float16Path)).graph!;
  const halfInitializers = new Set(guide.initializer.filter((t) => t.dataType === DataType.FLOAT16).map((t) => t.name));
  const halfAttributes = float16Attributes(guide.node);
  let graph = model.graph!;
  const initializer: TensorProto[] = [];
  for (const tensor of graph.initializer) {
    const round = tensor.dataType === DataType.FLOAT && halfInitializers.has(tensor.name);
    initializer.push(round ? roundedTensor(tensor, await tensorBytes(dirname(float32Path), tensor)) : tensor);
  }
  const node = graph.node.map((n) => ({
    ...n,
    attribute: n.attribute.map((a) =>
      a.t?.dataType === DataType.FLOAT && halfAttributes.has(`${n.name}:${a.name}`) ? { ...a, t: roundedTensor(a.t, inlineBytes(a.t)) } : a,
    ),
  }));
  const rounded = initializer.filter((t, i) => t !== graph.initializer[i]).length + halfAttributes.size;
  if (rounded === 0) throw new Error(`${float16Path} holds no float16 tensor named as in ${float32Path}`);
  graph = { ...graph, initializer, node };
  if (roundIo) graph = roundAtBoundary(graph, float16Io(guide.input), float16Io(guide.output));
  await writeModel(targetPath, { ...model, graph }, { externalData: { location: 'model.onnx_data' } });
}

const COMPONENTS = ['unet', 'text_encoder', 'text_encoder_2', 'vae_decoder', 'vae_encoder'];

/**
 * Writes to `targetDir` the float32 model folder `float32Dir` with every component rounded as
 * `roundedFloat32Model` does with `roundIo`: a float32 pipeline on the float16 export's numbers,
 * whose every input and output is rounded where the float16 export's are.
 */
export async function float16Twin(float32Dir: string, float16Dir: string, targetDir: string): Promise<void> {
  await cp(float32Dir, targetDir, { recursive: true });
  for (const component of COMPONENTS) {
    const model = (dir: string) => join(dir, component, 'model.onnx');
    if (!existsSync(model(float32Dir))) continue;
    await roundedFloat32Model(model(float32Dir), model(float16Dir), model(targetDir), true);
  }
}

/**
 * How far `actual` is from `expected` in units of what one rounding to float16 may move a value,
 * where `expected` is a float32 result and `actual` the same arithmetic rounded to float16 at the
 * end: rounding to nearest moves a value by at most half its float16 spacing, which is at most
 * 2^-11 of the value (2^-25 below float16's normal range). Before that rounding the two may differ
 * by float32 evaluation order (another graph, another kernel, another CPU's SIMD width): a few
 * float32 ulps per operation, so 2^-17 of the largest |expected| (128 float32 ulps at that scale)
 * is allowed for it; that is 1/64 of the float16 allowance at that scale, so it hides no float16
 * arithmetic. The result is at most 1 when `actual` holds that bound everywhere.
 */
export function float16RoundingExcess(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs ${expected.length}`);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  const float32Order = 2 ** -17 * scale;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const allowed = 2 ** -11 * (Math.abs(expected[i]) + float32Order) + 2 ** -25 + float32Order;
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / allowed);
  }
  return worst;
}

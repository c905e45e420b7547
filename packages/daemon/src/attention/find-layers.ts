/**
 * Finds the self-attention layers of a U-Net exported by PyTorch's TorchScript exporter, where
 * every node carries its module path (`/down_blocks.0/attentions.0/transformer_blocks.0/attn1/to_q/MatMul`).
 *
 * A layer is found by its module structure rather than by matching an exact op sequence, so the
 * attention core between the projections may be any of the exporters' forms: torch 2's
 * scaled_dot_product_attention (scale split over q and k), the older explicit softmax, or the
 * `baddbmm` form with its `Add(Mul(empty, 0))` before the Softmax. What is required: `to_q`,
 * `to_k`, `to_v` reading one tensor, a core in the module's own scope with exactly one Softmax that
 * reads all three projections, and `to_out.0` reading the core's result.
 */
import { ModelError } from '../errors';
import { GraphIndex, readConstant, type GraphProto, type NodeProto } from '../onnx';

export interface SelfAttentionLayer {
  /** Module path, e.g. `/down_blocks.0/attentions.0/transformer_blocks.0/attn1`. */
  path: string;
  /** [B, S, C] outputs of to_q, to_k, to_v. */
  query: string;
  key: string;
  value: string;
  /** [B, S, C] result of the attention core: the input of to_out.0. */
  output: string;
  /** The nodes that compute `output` from the projections and nothing else reads, in graph order. */
  core: NodeProto[];
  heads: number;
  channels: number;
  /** Element type of the projections (float or float16). */
  elemType: number;
}

const SELF_ATTENTION = /^(.*\/attn1)\//;

/** The layers in U-Net order (see blockRank); a ModelError listing what was found when any attn1 is not recognised. */
export function findSelfAttentionLayers(graph: GraphProto, source: string): SelfAttentionLayer[] {
  const paths: string[] = [];
  for (const node of graph.node) {
    const path = SELF_ATTENTION.exec(node.name ?? '')?.[1];
    if (path !== undefined && !paths.includes(path)) paths.push(path);
  }
  const index = new GraphIndex(graph);
  const order = new Map(graph.node.map((node, i) => [node, i]));
  const layers: SelfAttentionLayer[] = [];
  const problems: string[] = [];
  for (const path of paths) {
    const result = recogniseLayer(graph, index, order, path);
    if (typeof result === 'string') problems.push(`${path}: ${result}`);
    else layers.push(result);
  }
  if (layers.length === 0 || problems.length > 0) throw new ModelError(notRecognised(graph, source, paths, problems));
  return layers.sort((a, b) => blockRank(a.path) - blockRank(b.path));
}

/**
 * Layers are numbered in diffusers' module registration order, which is how the reference
 * implementation counts them for only_self_level (it walks `unet.attn_processors`):
 * UNet2DConditionModel registers `down_blocks` and `up_blocks` before `mid_block`, so the mid
 * block's layers come last, after the up blocks'. Within a block the order is the graph's.
 */
function blockRank(path: string): number {
  const rank = ['/down_blocks.', '/up_blocks.', '/mid_block/'].findIndex((prefix) => path.startsWith(prefix));
  return rank === -1 ? 3 : rank;
}

function recogniseLayer(
  graph: GraphProto,
  index: GraphIndex,
  order: Map<NodeProto, number>,
  path: string,
): SelfAttentionLayer | string {
  const projections: string[] = [];
  const projectionInputs = new Set<string>();
  for (const name of ['to_q', 'to_k', 'to_v']) {
    const module = moduleNodes(graph, `${path}/${name}`);
    const outputs = externalOutputs(module, index);
    if (outputs.length !== 1) return `${name} has ${outputs.length} outputs used outside it (expected 1)`;
    projections.push(outputs[0]);
    for (const input of externalInputs(module, index)) projectionInputs.add(input);
  }
  if (projectionInputs.size !== 1) return 'to_q, to_k and to_v do not read one common tensor (not self-attention)';
  const outModule = moduleNodes(graph, `${path}/to_out.0`);
  const coreOutputs = externalInputs(outModule, index);
  if (coreOutputs.length !== 1) return `to_out.0 reads ${coreOutputs.length} computed tensors (expected 1)`;
  const [output] = coreOutputs;

  const core = coreNodes(graph, index, path, output);
  if (!core.some((node) => node.output.includes(output))) return 'the tensor to_out.0 reads is not computed in the module itself';
  const softmaxes = core.filter((node) => node.opType === 'Softmax').length;
  if (softmaxes !== 1) return `its core has ${softmaxes} Softmax nodes (expected 1)`;
  const read = new Set(core.flatMap((node) => node.input));
  if (!projections.every((tensor) => read.has(tensor))) return 'its core does not read all of to_q, to_k, to_v';

  const [query, key, value] = projections;
  const heads = headCount(index, core, query);
  if (typeof heads === 'string') return heads;
  const weight = projectionWeight(graph, index, path);
  if (typeof weight === 'string') return weight;
  const channels = weight.dims[weight.dims.length - 1];
  if (channels % heads !== 0) return `${channels} channels do not split into ${heads} heads`;
  core.sort((a, b) => order.get(a)! - order.get(b)!);
  return { path, query, key, value, output, core, heads, channels, elemType: weight.dataType };
}

function moduleNodes(graph: GraphProto, modulePath: string): NodeProto[] {
  return graph.node.filter((node) => (node.name ?? '').startsWith(`${modulePath}/`));
}

/** Tensors the module's nodes produce and other nodes (or the graph's outputs) read. */
function externalOutputs(module: NodeProto[], index: GraphIndex): string[] {
  const members = new Set(module);
  const outputs = new Set(index.graph.output.map((info) => info.name));
  return module
    .flatMap((node) => node.output)
    .filter((tensor) => tensor && (outputs.has(tensor) || index.consumers(tensor).some((consumer) => !members.has(consumer))));
}

/** Computed tensors (not initializers, not constants) the module reads from outside. */
function externalInputs(module: NodeProto[], index: GraphIndex): string[] {
  const members = new Set(module);
  const inputs = new Set<string>();
  for (const node of module) {
    for (const tensor of node.input) {
      if (!tensor || index.initializer(tensor) || readConstant(index, tensor)) continue;
      const producer = index.producer(tensor);
      if (!producer || !members.has(producer)) inputs.add(tensor);
    }
  }
  return [...inputs];
}

/**
 * The attention core: the module's own nodes (not those of its projections) that `output`
 * depends on, less any whose results something else also reads (those stay where they are, and
 * both branches read them from the outer graph).
 */
function coreNodes(graph: GraphProto, index: GraphIndex, path: string, output: string): NodeProto[] {
  const own = (node: NodeProto) => {
    const name = node.name ?? '';
    return name.startsWith(`${path}/`) && !/^(to_q|to_k|to_v|to_out(\.\d+)?)\//.test(name.slice(path.length + 1));
  };
  const core = new Set<NodeProto>();
  const pending = [output];
  while (pending.length > 0) {
    const producer = index.producer(pending.pop()!);
    if (!producer || core.has(producer) || !own(producer)) continue;
    core.add(producer);
    pending.push(...producer.input.filter(Boolean));
  }
  const graphOutputs = new Set(graph.output.map((info) => info.name));
  for (let changed = true; changed; ) {
    changed = false;
    for (const node of core) {
      const sharedOutside = node.output.some(
        (tensor) =>
          tensor !== output && (graphOutputs.has(tensor) || index.consumers(tensor).some((consumer) => !core.has(consumer))),
      );
      if (sharedOutside) {
        core.delete(node);
        changed = true;
      }
    }
  }
  return [...core];
}

/**
 * The head count is not in the weights: it is the third entry of the shape the query is reshaped
 * to, a constant or a Concat whose third input is a constant.
 */
function headCount(index: GraphIndex, core: NodeProto[], query: string): number | string {
  const reshape = core.find((node) => node.opType === 'Reshape' && node.input[0] === query);
  if (!reshape) return 'no Reshape of the query into heads';
  const shape = readConstant(index, reshape.input[1]);
  if (shape?.values.length === 4) return shape.values[2];
  const concat = index.producer(reshape.input[1]);
  const heads = concat?.opType === 'Concat' ? readConstant(index, concat.input[2]) : undefined;
  if (heads?.values.length === 1 && heads.values[0] > 0) return heads.values[0];
  return 'the head count is not a constant in the shape the query is reshaped to';
}

function projectionWeight(graph: GraphProto, index: GraphIndex, path: string): { dims: number[]; dataType: number } | string {
  const matmul = moduleNodes(graph, `${path}/to_q`).find((node) => node.opType === 'MatMul');
  const weight = matmul?.input.map((tensor) => index.initializer(tensor)).find((tensor) => tensor !== undefined);
  if (!weight || weight.dims.length !== 2) return 'to_q has no MatMul with a 2-D weight';
  return { dims: weight.dims, dataType: weight.dataType ?? 0 };
}

function notRecognised(graph: GraphProto, source: string, paths: string[], problems: string[]): string {
  const opCounts = new Map<string, number>();
  for (const node of graph.node) opCounts.set(node.opType ?? '', (opCounts.get(node.opType ?? '') ?? 0) + 1);
  const attentionOps = ['Softmax', 'MultiHeadAttention', 'Attention', 'GroupQueryAttention', 'PackedMultiHeadAttention']
    .filter((op) => opCounts.has(op))
    .map((op) => `${opCounts.get(op)} ${op}`);
  const found = [
    paths.length === 0
      ? 'no node under an `attn1` module (TorchScript-exported diffusers U-Nets name them `.../attn1/...`)'
      : `${paths.length} attn1 modules`,
    ...problems,
    attentionOps.length > 0 ? `attention ops in the graph: ${attentionOps.join(', ')}` : 'no Softmax or attention op in the graph',
    `${graph.node.length} nodes in all`,
  ];
  return (
    `${source}: cannot add shared attention, the self-attention layers are not recognisable. Found: ${found.join('; ')}. ` +
    'Expected a U-Net exported by torch.onnx.export (TorchScript) as Optimum does, not one whose attention is already fused.'
  );
}

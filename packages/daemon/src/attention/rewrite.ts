/**
 * Rewrites an exported U-Net so that its self-attention layers (and, optionally, its GroupNorms)
 * implement StyleAligned's shared attention, controlled entirely by run-time inputs: one
 * rewritten model serves every option set, and changing options never rebuilds a session.
 *
 * Run-time inputs (B = the U-Net batch, L = the number of self-attention layers):
 *
 * | input | type, shape | meaning |
 * | --- | --- | --- |
 * | `styleset_layer_on` | int64 [L] | 1: layer j shares (U-Net order: down, up, then mid blocks); 0: layer j runs its original nodes |
 * | `styleset_ref_index` | int64 [B] | ref(i), the batch index of item i's reference (ref(r) = r for a reference) |
 * | `styleset_share_attention` | int64 [1] | 1: targets attend to their reference's keys and values too; 0: AdaIN only |
 * | `styleset_adain` | int64 [3] | AdaIN on queries, keys, values (1/0 each) |
 * | `styleset_score_scale` | float [1] | shared_score_scale: the factor on a target's reference keys |
 * | `styleset_score_shift` | float [1] | shared_score_shift: added to the logits of a target's reference columns |
 * | `styleset_full_share_size` | int64 [1] | > 0: full_attention_share over consecutive groups of this many items; 0: off |
 * | `styleset_group_norm_on` | int64 [1] | 1: shared GroupNorm statistics (present only when the export has GroupNorms) |
 *
 * Float inputs have the model's float type (float16 for float16 exports). Per layer, an If on
 * `styleset_layer_on[j]` computes into the tensor that feeds `to_out.0` either shared attention
 * (then branch, shared-attention-graph.ts) or the layer's plain self-attention (else branch). The
 * else branch replaces the export's unfused attention core (MatMul, Softmax, Transpose, ...) by
 * one fused MultiHeadAttention: the same function, but it never writes out the rows x heads x S x S
 * score tensor, so plain generation is faster and peaks lower than the export. With every layer
 * off the model so computes what the export does up to float rounding (a different summation order
 * in the attention; the tests bound it), not bit for bit. Each GroupNorm's InstanceNormalization
 * is wrapped in an If on `styleset_group_norm_on`, its else branch the original node, moved there
 * unchanged.
 *
 * With `lockstep` (lockstep-graph.ts, for sets larger than one batch) the model also takes
 * `styleset_external_reference` (int64 [1]) and, per layer and per GroupNorm, the reference's
 * tensors that a batch holding the reference hands on (`referenceTensorNames`), and returns them
 * as outputs of the same names with `_out`; the per-layer If then has those outputs too.
 */
import { DataType, GraphIndex, makeNode, makeValueInfo, readConstant, type Dim, type GraphProto, type ModelProto, type NodeProto } from '../onnx';
import { Emitter, typedValue } from './emitter';
import { findGroupNorms } from './find-group-norms';
import { findSelfAttentionLayers } from './find-layers';
import { sharedGroupNorm } from './group-norm-graph';
import {
  EXTERNAL_REFERENCE_INPUT,
  lockstepAttention,
  lockstepGroupNorm,
  nothingToHandOn,
  referenceOutputName,
  referenceTensorNames,
  type LockstepControls,
} from './lockstep-graph';
import { plainAttention, sharedAttention, type SharingControls } from './shared-attention-graph';

export const SHARING_INPUTS = {
  layerOn: 'styleset_layer_on',
  refIndex: 'styleset_ref_index',
  shareAttention: 'styleset_share_attention',
  adain: 'styleset_adain',
  scoreScale: 'styleset_score_scale',
  scoreShift: 'styleset_score_shift',
  fullShareSize: 'styleset_full_share_size',
  groupNormOn: 'styleset_group_norm_on',
} as const;

/** Bump whenever the rewritten graph changes: cached rewrites of older versions are redone. */
export const REWRITE_VERSION = 3;

export interface SharedUnetInfo {
  /** Self-attention layers, the length of `styleset_layer_on`. */
  layerCount: number;
  /** GroupNorms that can share statistics; 0 means the model has no `styleset_group_norm_on`. */
  groupNormCount: number;
}

export interface RewriteResult extends SharedUnetInfo {
  model: ModelProto;
  /** Module paths of the self-attention layers, in U-Net order. */
  layerPaths: string[];
}

const MICROSOFT_DOMAIN = 'com.microsoft';

export interface RewriteOptions {
  /**
   * The lockstep variant (lockstep-graph.ts): with `styleset_external_reference` and the
   * reference's tensors as inputs and outputs. Not full_attention_share (a full-share set's
   * batches each attend as a whole; they run as one-batch U-Net calls).
   */
  lockstep?: boolean;
}

/** `source` names the model in errors. The input model is not modified. */
export function rewriteSharedUnet(model: ModelProto, source: string, options: RewriteOptions = {}): RewriteResult {
  const graph = model.graph!;
  const opset = model.opsetImport.find((entry) => (entry.domain ?? '') === '')?.version ?? 1;
  const layers = findSelfAttentionLayers(graph, source);
  const groupNorms = findGroupNorms(graph);
  const index = new GraphIndex(graph);
  const floatType = layers[0].elemType;
  const batch = batchDim(graph);
  const lockstep = options.lockstep === true;
  const referenceNames = lockstep ? referenceTensorNames(layers.length, groupNorms.length) : [];
  const groupNormTypes = groupNorms.map((node) => constantType(index, node.input[1]) ?? floatType);
  const referenceTypes = lockstep ? [...layers.flatMap((layer) => [layer.elemType, layer.elemType, DataType.FLOAT]), ...groupNorms.map(() => DataType.FLOAT)] : [];

  const inputs = [
    makeValueInfo(SHARING_INPUTS.layerOn, DataType.INT64, [layers.length]),
    makeValueInfo(SHARING_INPUTS.refIndex, DataType.INT64, [batch]),
    makeValueInfo(SHARING_INPUTS.shareAttention, DataType.INT64, [1]),
    makeValueInfo(SHARING_INPUTS.adain, DataType.INT64, [3]),
    makeValueInfo(SHARING_INPUTS.scoreScale, floatType, [1]),
    makeValueInfo(SHARING_INPUTS.scoreShift, floatType, [1]),
    makeValueInfo(SHARING_INPUTS.fullShareSize, DataType.INT64, [1]),
    ...(groupNorms.length > 0 ? [makeValueInfo(SHARING_INPUTS.groupNormOn, DataType.INT64, [1])] : []),
    ...(lockstep ? [makeValueInfo(EXTERNAL_REFERENCE_INPUT, DataType.INT64, [1])] : []),
    ...referenceNames.map((name, i) => makeValueInfo(name, referenceTypes[i], [undefined, undefined, undefined])),
  ];
  const global = new Emitter('/styleset', opset);
  const controls = globalControls(global, floatType, lockstep);
  const layerFlags = global.cast(SHARING_INPUTS.layerOn, DataType.BOOL);
  const groupNormOn = groupNorms.length > 0 ? global.cast(SHARING_INPUTS.groupNormOn, DataType.BOOL) : '';

  const replacements = new Map<NodeProto, NodeProto[]>();
  // The layers' attention cores (replaced by the branches) and the GroupNorms (moved into theirs).
  const removed = new Set<NodeProto>();
  layers.forEach((layer, j) => {
    const e = new Emitter(`${layer.path}/styleset`, opset);
    const cond = e.op('Gather', [layerFlags, e.ints([j], [])], { axis: { int: 0 } });
    const shared = e.child('shared');
    const plain = e.child('plain');
    let outputs = [layer.output];
    let thenBranch: GraphProto;
    let elseBranch: GraphProto;
    if (lockstep) {
      const [key, value, stats] = referenceNames.slice(3 * j, 3 * j + 3);
      const types = [layer.elemType, layer.elemType, layer.elemType, DataType.FLOAT];
      thenBranch = shared.graphOf(lockstepAttention(shared, layer, controls as LockstepControls, { key, value, stats }), types);
      elseBranch = plain.graphOf([plainAttention(plain, layer), ...nothingToHandOn(plain, layer)], types);
      outputs = [layer.output, key, value, stats].map((name, i) => (i === 0 ? name : referenceOutputName(name)));
    } else {
      thenBranch = shared.graph(sharedAttention(shared, layer, controls), layer.elemType);
      elseBranch = plain.graph(plainAttention(plain, layer), layer.elemType);
    }
    const anchor = layer.core.find((node) => node.output.includes(layer.output))!;
    for (const node of layer.core) removed.add(node);
    replacements.set(anchor, [...e.nodes, ifNode(`${layer.path}/styleset/If`, cond, outputs, thenBranch, elseBranch)]);
  });
  groupNorms.forEach((node, g) => {
    const scope = `${node.name || node.output[0]}/styleset`;
    const elemType = groupNormTypes[g];
    const shared = new Emitter(`${scope}/shared`, opset);
    let outputs = [node.output[0]];
    let thenBranch: GraphProto;
    let elseBranch = originalBranch(graph, `${scope}/original`, [node], node.output[0], elemType);
    if (lockstep) {
      const reference = referenceNames[3 * layers.length + g];
      thenBranch = shared.graphOf(lockstepGroupNorm(shared, node, elemType, controls as LockstepControls, reference), [elemType, DataType.FLOAT]);
      const none = new Emitter(`${scope}/original/none`, opset);
      const empty = none.empty(DataType.FLOAT, 3);
      elseBranch = { ...elseBranch, node: [...elseBranch.node, ...none.nodes], output: [...elseBranch.output, typedValue(empty, DataType.FLOAT)] };
      outputs = [node.output[0], referenceOutputName(reference)];
    } else {
      thenBranch = shared.graph(sharedGroupNorm(shared, node, SHARING_INPUTS.refIndex, elemType).output, elemType);
    }
    removed.add(node);
    replacements.set(node, [ifNode(`${scope}/If`, groupNormOn, outputs, thenBranch, elseBranch)]);
  });

  const nodes: NodeProto[] = [...global.nodes];
  for (const node of graph.node) {
    const replacement = replacements.get(node);
    if (replacement) nodes.push(...replacement);
    else if (!removed.has(node)) nodes.push(node);
  }
  const removedTensors = new Set([...removed].flatMap((node) => node.output));
  const rewritten: GraphProto = {
    ...graph,
    node: nodes,
    input: [...graph.input, ...inputs],
    output: [...graph.output, ...referenceNames.map((name, i) => typedValue(referenceOutputName(name), referenceTypes[i]))],
    valueInfo: graph.valueInfo.filter((info) => !removedTensors.has(info.name ?? '')),
  };
  const opsetImport = model.opsetImport.some((entry) => entry.domain === MICROSOFT_DOMAIN)
    ? model.opsetImport
    : [...model.opsetImport, { domain: MICROSOFT_DOMAIN, version: 1 }];
  return {
    model: { ...model, opsetImport, graph: rewritten },
    layerCount: layers.length,
    groupNormCount: groupNorms.length,
    layerPaths: layers.map((layer) => layer.path),
  };
}

/** Conditions and index lists, computed once per call in the outer graph (a few ops on [B]-sized tensors). */
function globalControls(e: Emitter, floatType: number, lockstep: boolean): SharingControls | LockstepControls {
  const flag = (flags: string, i: number) => e.op('Gather', [flags, e.ints([i], [])], { axis: { int: 0 } });
  const differs = (x: string, value: number) => e.op('Not', [e.op('Equal', [x, e.float(value, floatType, [1])])]);
  const adainFlags = e.cast(SHARING_INPUTS.adain, DataType.BOOL);
  const refIndex = SHARING_INPUTS.refIndex;
  const batch = e.op('Gather', [e.op('Shape', [refIndex]), e.ints([0], [])], { axis: { int: 0 } });
  const items = e.op('Range', [e.ints([0], []), batch, e.ints([1], [])]);
  // Without attention sharing every item extends with itself, i.e. is left to plain attention.
  const shareMap = e.op('Where', [e.cast(SHARING_INPUTS.shareAttention, DataType.BOOL), refIndex, items]);
  const isReference = e.op('Equal', [shareMap, items]);
  const flat = (x: string) => e.op('Reshape', [x, e.ints([-1])]);
  const targets = flat(e.op('NonZero', [e.op('Not', [isReference])]));
  const others = flat(e.op('NonZero', [isReference]));
  const order = e.op('ScatterElements', [items, e.op('Concat', [targets, others], { axis: { int: 0 } }), items], { axis: { int: 0 } });
  const controls: SharingControls = {
    refIndex,
    targets,
    targetRefs: e.op('Gather', [shareMap, targets], { axis: { int: 0 } }),
    others,
    order,
    scoreScale: SHARING_INPUTS.scoreScale,
    scaleOn: differs(SHARING_INPUTS.scoreScale, 1),
    scoreShift: SHARING_INPUTS.scoreShift,
    shiftOn: differs(SHARING_INPUTS.scoreShift, 0),
    adainQueries: flag(adainFlags, 0),
    adainKeys: flag(adainFlags, 1),
    adainValues: flag(adainFlags, 2),
    fullShareSize: SHARING_INPUTS.fullShareSize,
    fullShareOn: e.op('Greater', [SHARING_INPUTS.fullShareSize, e.ints([0])]),
  };
  if (!lockstep) return controls;
  return {
    ...controls,
    external: e.cast(EXTERNAL_REFERENCE_INPUT, DataType.BOOL),
    shareAttentionOn: e.cast(SHARING_INPUTS.shareAttention, DataType.BOOL),
    referenceRows: flat(e.op('NonZero', [e.op('Equal', [refIndex, items])])),
  };
}

/** The original nodes as a branch; their final output is renamed, since the If now produces that name. */
function originalBranch(graph: GraphProto, name: string, nodes: NodeProto[], output: string, elemType: number): GraphProto {
  const renamed = `${output}/original`;
  const rename = (tensor: string) => (tensor === output ? renamed : tensor);
  const produced = new Set(nodes.flatMap((node) => node.output));
  return {
    name,
    node: nodes.map((node) => ({ ...node, input: node.input.map(rename), output: node.output.map(rename) })),
    initializer: [],
    input: [],
    output: [typedValue(renamed, elemType)],
    valueInfo: graph.valueInfo.filter((info) => produced.has(info.name ?? '') && info.name !== output),
  };
}

function ifNode(name: string, cond: string, outputs: string[], thenBranch: GraphProto, elseBranch: GraphProto): NodeProto {
  return makeNode('If', [cond], outputs, {
    name,
    attributes: { then_branch: { graph: thenBranch }, else_branch: { graph: elseBranch } },
  });
}

/** The batch dimension of `sample` (usually symbolic), so that the new inputs share it. */
function batchDim(graph: GraphProto): Dim {
  const sample = graph.input.find((info) => info.name === 'sample') ?? graph.input[0];
  const dim = sample?.type?.tensorType?.shape?.dim[0];
  return dim?.dimValue || dim?.dimParam || 'batch_size';
}

function constantType(index: GraphIndex, tensor: string): number | undefined {
  return index.initializer(tensor)?.dataType ?? readConstant(index, tensor)?.dataType;
}

/**
 * The layers of the lockstep U-Net (rewrite.ts with `lockstep`), for sets larger than one batch.
 * Every denoising step runs the set's batches in turn. The first holds the reference (in the same
 * layout as one batch): its shared layers compute as in the one-batch U-Net and also hand on what
 * the targets read of the reference, per layer its keys and values (after its own AdaIN) and the
 * token statistics AdaIN gives the targets, per shared GroupNorm its group statistics. Every
 * other batch holds targets only and reads those tensors from its inputs instead of recomputing
 * the reference: then `styleset_ref_index[i]` is the row of those tensors (0, or with guidance
 * 0 for the unconditional half and 1 for the conditional one) item i takes its reference from.
 *
 * The If on `styleset_external_reference` chooses per layer; a branch with nothing to hand on
 * returns empty tensors, so the graph's outputs cost nothing where they are not used.
 */
import { DataType, type NodeProto } from '../onnx';
import { adainIf, tokenStats, type TokenStats } from './adain-graph';
import type { Emitter } from './emitter';
import type { SelfAttentionLayer } from './find-layers';
import { sharedGroupNorm } from './group-norm-graph';
import { attend, referenceShare, shiftedAttention, type SharingControls } from './shared-attention-graph';

/** The lockstep U-Net's one more control input: int64 [1], 1 where the reference comes from the inputs. */
export const EXTERNAL_REFERENCE_INPUT = 'styleset_external_reference';

/**
 * What a batch that holds the reference hands on: per self-attention layer j its keys and values
 * ([R, S, C], the model's float type) and the float32 [R, 6, C] token statistics (mean and std of
 * queries, keys, values); per GroupNorm g the float32 [R, groups, 2] group statistics (mean,
 * biased variance). R: the reference's rows (2 with guidance). The graph's inputs have these
 * names, its outputs the same with `_out`.
 */
export function referenceTensorNames(layerCount: number, groupNormCount: number): string[] {
  const layers = Array.from({ length: layerCount }, (_, j) => [`styleset_reference_key_${j}`, `styleset_reference_value_${j}`, `styleset_reference_stats_${j}`]);
  const norms = Array.from({ length: groupNormCount }, (_, g) => `styleset_reference_group_stats_${g}`);
  return [...layers.flat(), ...norms];
}

export function referenceOutputName(input: string): string {
  return `${input}_out`;
}

export interface LockstepControls extends SharingControls {
  /** bool [1]: the reference's tensors come from the inputs (a batch of targets only). */
  external: string;
  /** bool [1]: styleset_share_attention. */
  shareAttentionOn: string;
  /** int64 [R]: the rows that are their own reference, whose tensors a batch hands on. */
  referenceRows: string;
}

/** A layer's reference inputs: its keys, values and token statistics (see referenceTensorNames). */
export interface LayerReference {
  key: string;
  value: string;
  stats: string;
}

/** A shared layer in a lockstep U-Net: [attention output, reference keys, values, statistics]. */
export function lockstepAttention(e: Emitter, layer: SelfAttentionLayer, c: LockstepControls, reference: LayerReference): string[] {
  const { elemType } = layer;
  return e.ifElseMany(
    c.external,
    [elemType, elemType, elemType, DataType.FLOAT],
    (branch) => [fromInputs(branch, layer, c, reference), branch.empty(elemType, 3), branch.empty(elemType, 3), branch.empty(DataType.FLOAT, 3)],
    (branch) => handingOn(branch, layer, c),
  );
}

/** What a layer with sharing off returns for its reference outputs. */
export function nothingToHandOn(e: Emitter, layer: SelfAttentionLayer): string[] {
  return [e.empty(layer.elemType, 3), e.empty(layer.elemType, 3), e.empty(DataType.FLOAT, 3)];
}

/** The one-batch computation, plus the reference rows' keys, values and token statistics. */
function handingOn(e: Emitter, layer: SelfAttentionLayer, c: LockstepControls): string[] {
  const { output, key, value } = referenceShare(e, layer, c);
  const rows = (x: string) => e.op('Gather', [x, c.referenceRows], { axis: { int: 0 } });
  const stats = [layer.query, layer.key, layer.value].flatMap((x) => {
    const { mean, std } = tokenStats(e, rows(x), layer.elemType);
    return [mean, std];
  });
  return [output, rows(key), rows(value), e.op('Concat', stats, { axis: { int: 1 } })];
}

/**
 * Targets only: referenceShare's target rows with the reference's tensors read from the inputs
 * (keys `[K'_i ; s K'_ref]`, values `[V'_i ; V'_ref]`, the shift on the reference columns), or
 * with attention sharing off each item's own attention after AdaIN.
 */
function fromInputs(e: Emitter, layer: SelfAttentionLayer, c: LockstepControls, reference: LayerReference): string {
  const { elemType } = layer;
  const stat = (k: number) => e.op('Slice', [reference.stats, e.ints([k]), e.ints([k + 1]), e.ints([1])]);
  const statsOf = (k: number): TokenStats => ({ mean: stat(2 * k), std: stat(2 * k + 1) });
  const query = adainIf(e, c.adainQueries, layer.query, c.refIndex, elemType, statsOf(0));
  const key = adainIf(e, c.adainKeys, layer.key, c.refIndex, elemType, statsOf(1));
  const value = adainIf(e, c.adainValues, layer.value, c.refIndex, elemType, statsOf(2));
  return e.ifElse(
    c.shareAttentionOn,
    elemType,
    (branch) => {
      const rows = (x: string) => branch.op('Gather', [x, c.refIndex], { axis: { int: 0 } });
      const gathered = rows(reference.key);
      const refKeys = branch.ifElse(c.scaleOn, elemType, (b) => b.op('Mul', [gathered, c.scoreScale]), () => gathered);
      const values = branch.op('Concat', [value, rows(reference.value)], { axis: { int: 1 } });
      return branch.ifElse(
        c.shiftOn,
        elemType,
        (b) => shiftedAttention(b, layer, query, key, refKeys, values, c.scoreShift),
        (b) => attend(b, layer, query, b.op('Concat', [key, refKeys], { axis: { int: 1 } }), values),
      );
    },
    (branch) => attend(branch, layer, query, key, value),
  );
}

/** A shared GroupNorm in a lockstep U-Net: [normalised, the reference rows' statistics]. */
export function lockstepGroupNorm(e: Emitter, node: NodeProto, elemType: number, c: LockstepControls, reference: string): string[] {
  return e.ifElseMany(
    c.external,
    [elemType, DataType.FLOAT],
    (branch) => {
      const stat = (k: number) => branch.op('Slice', [reference, branch.ints([k]), branch.ints([k + 1]), branch.ints([2])]);
      const { output } = sharedGroupNorm(branch, node, c.refIndex, elemType, { mean: stat(0), variance: stat(1) });
      return [output, branch.empty(DataType.FLOAT, 3)];
    },
    (branch) => {
      const { output, mean, variance } = sharedGroupNorm(branch, node, c.refIndex, elemType);
      const rows = (x: string) => branch.op('Gather', [x, c.referenceRows], { axis: { int: 0 } });
      return [output, branch.op('Concat', [rows(mean), rows(variance)], { axis: { int: 2 } })];
    },
  );
}

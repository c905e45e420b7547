/**
 * Shared GroupNorm (`share_group_norm`): each item's group statistics are taken over its own and
 * its reference's positions together, as the reference implementation does by concatenating the
 * reference's rows before the norm and keeping the item's. Here the concatenation is on the
 * grouped [N, groups, L] tensor the export feeds to InstanceNormalization, which then normalises
 * with the same epsilon. A reference joined with itself keeps its statistics.
 */
import { DataType, type NodeProto } from '../onnx';
import type { Emitter } from './emitter';

/** `node`: the GroupNorm's InstanceNormalization; `elemType`: the type of its input. */
export function sharedGroupNorm(e: Emitter, node: NodeProto, refIndex: string, elemType: number): string {
  const half = elemType === DataType.FLOAT16;
  const toStats = (x: string) => (half ? e.cast(x, DataType.FLOAT) : x);
  const [x, scale, bias] = node.input;
  const grouped = toStats(x);
  const joint = e.op('Concat', [grouped, e.op('Gather', [grouped, refIndex], { axis: { int: 0 } })], { axis: { int: 2 } });
  const epsilon = node.attribute.find((attribute) => attribute.name === 'epsilon')?.f ?? 1e-5;
  const normed = e.op('InstanceNormalization', [joint, toStats(scale), toStats(bias)], { epsilon: { float: epsilon } });
  const own = e.op('Slice', [normed, e.ints([0]), e.dim(x, 2), e.ints([2])]);
  return half ? e.cast(own, DataType.FLOAT16) : own;
}

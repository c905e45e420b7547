/**
 * Shared GroupNorm (`share_group_norm`): each item's group statistics are taken over its own and
 * its reference's positions together, as the reference implementation does by concatenating the
 * reference's rows before the norm and keeping the item's. The reference's statistics come from
 * the same batch or, in lockstep chunks (lockstep.ts), from a batch that held the reference. Both halves have the same size, so the
 * joint statistics follow from each item's own without building the concatenation:
 * `mean = (m_i + m_r) / 2`, `var = (v_i + v_r) / 2 + ((m_i - m_r) / 2)^2` (biased variances, as
 * GroupNorm's). A reference joined with itself keeps its statistics. Computed in float32.
 */
import { DataType, type NodeProto } from '../onnx';
import type { Emitter } from './emitter';

/** Float32 [N, groups, 1] group statistics: the mean and the biased variance. */
export interface GroupStats {
  mean: string;
  variance: string;
}

/**
 * Replaces the GroupNorm's InstanceNormalization `node` (x grouped as [N, groups, L], per-group
 * scale and bias); `elemType` is the type of its input. Returns the normalised tensor and the
 * batch's own statistics; `reference` (default: those) is where row ref(i) is read from.
 */
export function sharedGroupNorm(e: Emitter, node: NodeProto, refIndex: string, elemType: number, reference?: GroupStats): GroupStats & { output: string } {
  const half = elemType === DataType.FLOAT16;
  const toStats = (x: string) => (half ? e.cast(x, DataType.FLOAT) : x);
  const [x, scale, bias] = node.input;
  const input = toStats(x);
  const mean = e.reduce('ReduceMean', input, [2]);
  const centred = e.op('Sub', [input, mean]);
  const length = e.cast(e.dim(x, 2), DataType.FLOAT);
  const variance = e.op('Div', [e.reduce('ReduceSumSquare', centred, [2]), length]);
  const fromReference = (stat: string) => e.op('Gather', [stat, refIndex], { axis: { int: 0 } });
  const from = reference ?? { mean, variance };
  const halfGap = e.op('Mul', [e.op('Sub', [mean, fromReference(from.mean)]), e.float(0.5, DataType.FLOAT)]);
  const jointVariance = e.op('Add', [
    e.op('Mul', [e.op('Add', [variance, fromReference(from.variance)]), e.float(0.5, DataType.FLOAT)]),
    e.op('Mul', [halfGap, halfGap]),
  ]);
  const epsilon = node.attribute.find((attribute) => attribute.name === 'epsilon')?.f ?? 1e-5;
  const perGroup = (t: string) => e.op('Reshape', [toStats(t), e.ints([-1, 1])]);
  // (x - joint mean) / std * scale + bias, with x - joint mean = centred + halfGap.
  const gain = e.op('Div', [perGroup(scale), e.op('Sqrt', [e.op('Add', [jointVariance, e.float(epsilon, DataType.FLOAT)])])]);
  const offset = e.op('Add', [perGroup(bias), e.op('Mul', [halfGap, gain])]);
  const normed = e.op('Add', [e.op('Mul', [centred, gain]), offset]);
  return { output: half ? e.cast(normed, DataType.FLOAT16) : normed, mean, variance };
}

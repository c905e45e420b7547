/**
 * AdaIN over the token axis, per channel, on [B, S, C] (the same as per head and channel on
 * [B, heads, S, d]): each item's statistics replaced by its reference's,
 * `(x - mean_i) / std_i * std_ref(i) + mean_ref(i)`, with `std = sqrt(var + 1e-5)` and the
 * unbiased variance, as torch.var computes it. Statistics are taken in float32 whatever the
 * model's type. The reference's statistics come from the same batch, or (lockstep chunks, see
 * lockstep.ts) from the tensors a batch that held the reference handed on.
 */
import { DataType } from '../onnx';
import type { Emitter } from './emitter';

const EPSILON = 1e-5;

/** Float32 [B, 1, C] token statistics: the mean and `sqrt(unbiased var + eps)`. */
export interface TokenStats {
  mean: string;
  std: string;
}

/**
 * AdaIN of `x` to the statistics at row ref(i) of `reference` (default: x's own, i.e. of the
 * reference in the same batch).
 */
export function adain(e: Emitter, x: string, refIndex: string, elemType: number, reference?: TokenStats): string {
  const half = elemType === DataType.FLOAT16;
  const { centred, mean, std } = centredStats(e, x, elemType);
  const from = reference ?? { mean, std };
  const fromReference = (stat: string) => e.op('Gather', [stat, refIndex], { axis: { int: 0 } });
  const gain = e.op('Div', [fromReference(from.std), std]);
  const result = e.op('Add', [e.op('Mul', [centred, gain]), fromReference(from.mean)]);
  return half ? e.cast(result, DataType.FLOAT16) : result;
}

/** `x`'s token statistics (float32), as AdaIN takes them. */
export function tokenStats(e: Emitter, x: string, elemType: number): TokenStats {
  const { mean, std } = centredStats(e, x, elemType);
  return { mean, std };
}

function centredStats(e: Emitter, x: string, elemType: number): TokenStats & { centred: string } {
  const input = elemType === DataType.FLOAT16 ? e.cast(x, DataType.FLOAT) : x;
  const mean = e.reduce('ReduceMean', input, [1]);
  const centred = e.op('Sub', [input, mean]);
  const tokensLessOne = e.cast(e.op('Sub', [e.dim(x, 1), e.ints([1])]), DataType.FLOAT);
  const variance = e.op('Div', [e.reduce('ReduceSumSquare', centred, [1]), tokensLessOne]);
  const std = e.op('Sqrt', [e.op('Add', [variance, e.float(EPSILON, DataType.FLOAT)])]);
  return { centred, mean, std };
}

/** AdaIN when `cond` holds, else `x` as it is: the reductions only run when the option is on. */
export function adainIf(e: Emitter, cond: string, x: string, refIndex: string, elemType: number, reference?: TokenStats): string {
  return e.ifElse(
    cond,
    elemType,
    (branch) => adain(branch, x, refIndex, elemType, reference),
    () => x,
  );
}

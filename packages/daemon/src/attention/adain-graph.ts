/**
 * AdaIN over the token axis, per channel, on [B, S, C] (the same as per head and channel on
 * [B, heads, S, d]): each item's statistics replaced by its reference's,
 * `(x - mean_i) / std_i * std_ref(i) + mean_ref(i)`, with `std = sqrt(var + 1e-5)` and the
 * unbiased variance, as torch.var computes it. Statistics are taken in float32 whatever the
 * model's type.
 */
import { DataType } from '../onnx';
import type { Emitter } from './emitter';

const EPSILON = 1e-5;

export function adain(e: Emitter, x: string, refIndex: string, elemType: number): string {
  const half = elemType === DataType.FLOAT16;
  const input = half ? e.cast(x, DataType.FLOAT) : x;
  const mean = e.reduce('ReduceMean', input, [1]);
  const centred = e.op('Sub', [input, mean]);
  const tokensLessOne = e.cast(e.op('Sub', [e.dim(x, 1), e.ints([1])]), DataType.FLOAT);
  const variance = e.op('Div', [e.reduce('ReduceSumSquare', centred, [1]), tokensLessOne]);
  const std = e.op('Sqrt', [e.op('Add', [variance, e.float(EPSILON, DataType.FLOAT)])]);
  const fromReference = (stat: string) => e.op('Gather', [stat, refIndex], { axis: { int: 0 } });
  const gain = e.op('Div', [fromReference(std), std]);
  const result = e.op('Add', [e.op('Mul', [centred, gain]), fromReference(mean)]);
  return half ? e.cast(result, DataType.FLOAT16) : result;
}

/** AdaIN when `cond` holds, else `x` as it is: the reductions only run when the option is on. */
export function adainIf(e: Emitter, cond: string, x: string, refIndex: string, elemType: number): string {
  return e.ifElse(
    cond,
    elemType,
    (branch) => adain(branch, x, refIndex, elemType),
    () => x,
  );
}

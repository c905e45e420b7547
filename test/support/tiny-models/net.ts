/**
 * Layer emitters producing the ops, names and parameter layout that torch.onnx.export (TorchScript,
 * opset 14) produces for the PyTorch modules of the same name; see README.md for what was checked.
 * `path` arguments are module paths (`/down_blocks.0/resnets.0/conv1`); each emitter opens the
 * module's scope once, as one module call does in a trace.
 */
import { DataType, float32ToFloat16, makeTensor, type GraphBuilder, type TensorProto } from '../../../packages/daemon/src/onnx';
import type { Random } from './random';

export type FloatDtype = 'fp32' | 'fp16';

/** torch writes INT64_MAX as a Slice end meaning "to the end". */
export const INT64_MAX = 9223372036854775807;

/** Initial bound of PyTorch's default Linear/Conv init (kaiming_uniform with a=sqrt(5)). */
function torchBound(fanIn: number): number {
  return 1 / Math.sqrt(fanIn);
}

export class Net {
  readonly floatType: number;

  constructor(
    readonly b: GraphBuilder,
    private readonly random: Random,
    readonly dtype: FloatDtype,
  ) {
    this.floatType = dtype === 'fp16' ? DataType.FLOAT16 : DataType.FLOAT;
  }

  private data(values: Float32Array): Float32Array | Uint16Array {
    return this.dtype === 'fp16' ? float32ToFloat16(values) : values;
  }

  private count(dims: readonly number[]): number {
    return dims.reduce((a, b) => a * b, 1);
  }

  /** A parameter under its state-dict name, uniform in center ± bound. */
  param(name: string, dims: readonly number[], bound: number, center = 0): string {
    return this.b.parameter(name, this.floatType, dims, this.data(this.random.uniform(this.count(dims), bound, center)));
  }

  /** A parameter the exporter constant-folded (transposed, unsqueezed): `onnx::<op>_<n>`. */
  folded(consumerOp: string, dims: readonly number[], bound: number, center = 0): string {
    return this.b.foldedParameter(
      consumerOp,
      this.floatType,
      dims,
      this.data(this.random.uniform(this.count(dims), bound, center)),
    );
  }

  /** A tensor in the model's float type (for Constant-like attributes). */
  floatTensor(dims: readonly number[], values: readonly number[]): TensorProto {
    return makeTensor('', this.floatType, dims, this.data(Float32Array.from(values)));
  }

  /** A Constant node in the model's float type. */
  floatConst(scope: string, dims: readonly number[], values: readonly number[]): string {
    return this.b.constant(scope, this.floatType, dims, this.data(Float32Array.from(values)));
  }

  intConst(scope: string, dims: readonly number[], values: readonly number[]): string {
    return this.b.constant(scope, DataType.INT64, dims, values);
  }

  // Shape arithmetic, as traced code that reads `x.shape[i]` exports it.

  /** `x.shape[axis]` as a 0-d int64: Shape, Constant, Gather. */
  dim(scope: string, x: string, axis: number): string {
    const shape = this.b.op(scope, 'Shape', [x]);
    return this.b.op(scope, 'Gather', [shape, this.intConst(scope, [], [axis])], { axis: { int: 0 } });
  }

  unsqueeze(scope: string, x: string, axes: readonly number[]): string {
    return this.b.op(scope, 'Unsqueeze', [x, this.intConst(scope, [axes.length], axes)]);
  }

  /** A shape tensor from 0-d int64 tensors and literal sizes. */
  shapeOf(scope: string, parts: readonly (string | number)[]): string {
    const inputs = parts.map((part) =>
      typeof part === 'number' ? this.intConst(scope, [1], [part]) : this.unsqueeze(scope, part, [0]),
    );
    return this.b.op(scope, 'Concat', inputs, { axis: { int: 0 } });
  }

  // Layers.

  /** nn.Linear on a [B, S, in] input: MatMul with the transposed weight, then Add(bias, .) if biased. */
  linear(path: string, x: string, inFeatures: number, outFeatures: number, bias: boolean): string {
    const scope = this.b.scope(path);
    const bound = torchBound(inFeatures);
    const product = this.b.op(scope, 'MatMul', [x, this.folded('MatMul', [inFeatures, outFeatures], bound)]);
    if (!bias) return product;
    const biasName = `${path.slice(1).replaceAll('/', '.')}.bias`;
    return this.b.op(scope, 'Add', [this.param(biasName, [outFeatures], bound), product]);
  }

  /** nn.Linear with bias on a [B, in] input: one Gemm with the weight as stored. */
  gemm(path: string, x: string, inFeatures: number, outFeatures: number): string {
    const scope = this.b.scope(path);
    const name = path.slice(1).replaceAll('/', '.');
    const bound = torchBound(inFeatures);
    const weight = this.param(`${name}.weight`, [outFeatures, inFeatures], bound);
    const bias = this.param(`${name}.bias`, [outFeatures], bound);
    return this.b.op(scope, 'Gemm', [x, weight, bias], { alpha: { float: 1 }, beta: { float: 1 }, transB: { int: 1 } });
  }

  conv(
    path: string,
    x: string,
    inChannels: number,
    outChannels: number,
    kernel: number,
    options: { stride?: number; pad?: number } = {},
  ): string {
    const scope = this.b.scope(path);
    const name = path.slice(1).replaceAll('/', '.');
    const bound = torchBound(inChannels * kernel * kernel);
    const stride = options.stride ?? 1;
    const pad = options.pad ?? (kernel - 1) / 2;
    return this.b.op(
      scope,
      'Conv',
      [x, this.param(`${name}.weight`, [outChannels, inChannels, kernel, kernel], bound), this.param(`${name}.bias`, [outChannels], bound)],
      {
        dilations: { ints: [1, 1] },
        group: { int: 1 },
        kernel_shape: { ints: [kernel, kernel] },
        pads: { ints: [pad, pad, pad, pad] },
        strides: { ints: [stride, stride] },
      },
    );
  }

  /**
   * nn.GroupNorm as torch exports it up to opset 17 (no GroupNormalization op yet): reshape to
   * [N, groups, -1], InstanceNormalization with unit scale, reshape back, then the affine weight
   * and bias, constant-folded to [C, 1, 1] (or [C, 1] on a [N, C, L] input).
   */
  groupNorm(path: string, x: string, channels: number, groups: number, eps: number, spatialRank = 2): string {
    const scope = this.b.scope(path);
    const grouped = this.b.op(scope, 'Reshape', [x, this.intConst(scope, [3], [0, groups, -1])], { allowzero: { int: 0 } });
    const normed = this.b.op(
      scope,
      'InstanceNormalization',
      [grouped, this.floatConst(scope, [groups], new Array(groups).fill(1)), this.floatConst(scope, [groups], new Array(groups).fill(0))],
      { epsilon: { float: eps } },
    );
    const restored = this.b.op(scope, 'Reshape', [normed, this.b.op(scope, 'Shape', [x])], { allowzero: { int: 0 } });
    const affineDims = [channels, ...new Array(spatialRank).fill(1)];
    const scaled = this.b.op(scope, 'Mul', [restored, this.folded('Mul', affineDims, 0.1, 1)]);
    return this.b.op(scope, 'Add', [scaled, this.folded('Add', affineDims, 0.1)]);
  }

  /** nn.LayerNorm over the last axis, decomposed as torch exports it below opset 17. */
  layerNorm(path: string, x: string, channels: number, eps: number): string {
    const scope = this.b.scope(path);
    const name = path.slice(1).replaceAll('/', '.');
    const mean = this.b.op(scope, 'ReduceMean', [x], { axes: { ints: [-1] } });
    const centered = this.b.op(scope, 'Sub', [x, mean]);
    const squared = this.b.op(scope, 'Pow', [centered, this.floatConst(scope, [], [2])]);
    const variance = this.b.op(scope, 'ReduceMean', [squared], { axes: { ints: [-1] } });
    const std = this.b.op(scope, 'Sqrt', [this.b.op(scope, 'Add', [variance, this.floatConst(scope, [], [eps])])]);
    const normed = this.b.op(scope, 'Div', [centered, std]);
    const scaled = this.b.op(scope, 'Mul', [normed, this.param(`${name}.weight`, [channels], 0.1, 1)]);
    return this.b.op(scope, 'Add', [scaled, this.param(`${name}.bias`, [channels], 0.1)]);
  }

  /** nn.SiLU: x * sigmoid(x). */
  silu(path: string, x: string): string {
    const scope = this.b.scope(path);
    return this.b.op(scope, 'Mul', [x, this.b.op(scope, 'Sigmoid', [x])]);
  }

  /** F.gelu (erf form) traced inside the calling module's scope. */
  gelu(scope: string, x: string): string {
    const erf = this.b.op(scope, 'Erf', [this.b.op(scope, 'Div', [x, this.floatConst(scope, [], [Math.SQRT2])])]);
    const onePlus = this.b.op(scope, 'Add', [erf, this.floatConst(scope, [], [1])]);
    return this.b.op(scope, 'Mul', [this.b.op(scope, 'Mul', [x, onePlus]), this.floatConst(scope, [], [0.5])]);
  }

  /** transformers' quick_gelu, x * sigmoid(1.702 x), traced inside the calling module's scope. */
  quickGelu(scope: string, x: string): string {
    const sigmoid = this.b.op(scope, 'Sigmoid', [this.b.op(scope, 'Mul', [x, this.floatConst(scope, [], [1.702])])]);
    return this.b.op(scope, 'Mul', [x, sigmoid]);
  }

  /** `x.chunk(2, dim=-1)` with a traced size: Slice pairs bounded by shape arithmetic. */
  chunkLastAxis(scope: string, x: string): [string, string] {
    const size = this.dim(scope, x, -1);
    const axes = this.intConst(scope, [1], [-1]);
    const zero = this.intConst(scope, [1], [0]);
    const half = this.b.op(scope, 'Div', [this.b.op(scope, 'Add', [size, this.intConst(scope, [1], [1])]), this.intConst(scope, [1], [2])]);
    const end0 = this.b.op(scope, 'Mul', [half, this.intConst(scope, [1], [1])]);
    const first = this.b.op(scope, 'Slice', [x, zero, end0, axes]);
    const end1 = this.b.op(scope, 'Mul', [half, this.intConst(scope, [1], [2])]);
    return [first, this.b.op(scope, 'Slice', [x, end0, end1, axes])];
  }

  /** `x[..., start:]` on the last axis. */
  sliceFrom(scope: string, x: string, start: number): string {
    return this.b.op(scope, 'Slice', [
      x,
      this.intConst(scope, [1], [start]),
      this.intConst(scope, [1], [INT64_MAX]),
      this.intConst(scope, [1], [-1]),
      this.intConst(scope, [1], [1]),
    ]);
  }

  /** `x[..., :end]` on the last axis. */
  sliceTo(scope: string, x: string, end: number): string {
    return this.b.op(scope, 'Slice', [
      x,
      this.intConst(scope, [1], [0]),
      this.intConst(scope, [1], [end]),
      this.intConst(scope, [1], [-1]),
      this.intConst(scope, [1], [1]),
    ]);
  }

  cast(scope: string, x: string, to: number): string {
    return this.b.op(scope, 'Cast', [x], { to: { int: to } });
  }
}

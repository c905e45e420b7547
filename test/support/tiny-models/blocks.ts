/** diffusers building blocks shared by the U-Net and the VAE: ResnetBlock2D, Transformer2DModel, Timesteps. */
import { DataType } from '../../../packages/daemon/src/onnx';
import { attention, type AttentionPattern } from './attention';
import type { Net } from './net';

export interface ResnetSpec {
  inChannels: number;
  outChannels: number;
  groups: number;
  eps: number;
  /** The U-Net's time embedding and its width; the VAE's resnets have none. */
  temb?: { tensor: string; channels: number };
}

export function resnet(net: Net, path: string, x: string, spec: ResnetSpec): string {
  const { b } = net;
  const scope = b.scope(path);
  let h = net.groupNorm(`${path}/norm1`, x, spec.inChannels, spec.groups, spec.eps);
  h = net.conv(`${path}/conv1`, net.silu(`${path}/nonlinearity`, h), spec.inChannels, spec.outChannels, 3);
  if (spec.temb) {
    // One SiLU module called three times: nonlinearity, nonlinearity_1, nonlinearity_2.
    const t = net.silu(`${path}/nonlinearity`, spec.temb.tensor);
    const projected = net.gemm(`${path}/time_emb_proj`, t, spec.temb.channels, spec.outChannels);
    h = b.op(scope, 'Add', [h, net.unsqueeze(scope, net.unsqueeze(scope, projected, [2]), [3])]);
  }
  h = net.groupNorm(`${path}/norm2`, h, spec.outChannels, spec.groups, spec.eps);
  h = net.conv(`${path}/conv2`, net.silu(`${path}/nonlinearity`, h), spec.outChannels, spec.outChannels, 3);
  const shortcut =
    spec.inChannels === spec.outChannels
      ? x
      : net.conv(`${path}/conv_shortcut`, x, spec.inChannels, spec.outChannels, 1);
  // (input + h) / output_scale_factor, with the factor 1.0 still traced.
  return b.op(scope, 'Div', [b.op(scope, 'Add', [shortcut, h]), net.floatConst(scope, [], [1])]);
}

export interface TransformerSpec {
  channels: number;
  heads: number;
  layers: number;
  groups: number;
  context: string;
  contextDim: number;
  /** proj_in/proj_out as Linear (use_linear_projection) or as 1x1 Conv. */
  linearProjection: boolean;
  pattern: AttentionPattern;
}

/** Transformer2DModel; returns its output and the paths of its self-attention modules. */
export function transformer2d(net: Net, path: string, x: string, spec: TransformerSpec): { out: string; selfAttention: string[] } {
  const { b } = net;
  const scope = b.scope(path);
  const { channels } = spec;
  const batch = net.dim(scope, x, 0);
  const height = net.dim(scope, x, 2);
  const width = net.dim(scope, x, 3);
  const normed = net.groupNorm(`${path}/norm`, x, channels, spec.groups, 1e-6);
  const toTokens = (t: string) => {
    const tokens = b.op(scope, 'Mul', [height, width]);
    const channelsLast = b.op(scope, 'Transpose', [t], { perm: { ints: [0, 2, 3, 1] } });
    return b.op(scope, 'Reshape', [channelsLast, net.shapeOf(scope, [batch, tokens, channels])], { allowzero: { int: 0 } });
  };
  const toImage = (t: string) => {
    const grid = b.op(scope, 'Reshape', [t, net.shapeOf(scope, [batch, height, width, channels])], { allowzero: { int: 0 } });
    return b.op(scope, 'Transpose', [grid], { perm: { ints: [0, 3, 1, 2] } });
  };
  let h = spec.linearProjection
    ? net.linear(`${path}/proj_in`, toTokens(normed), channels, channels, true)
    : toTokens(net.conv(`${path}/proj_in`, normed, channels, channels, 1));
  const selfAttention: string[] = [];
  for (let k = 0; k < spec.layers; k++) {
    const blockPath = `${path}/transformer_blocks.${k}`;
    h = basicTransformerBlock(net, blockPath, h, spec);
    selfAttention.push(`${blockPath}/attn1`);
  }
  const projected = spec.linearProjection
    ? toImage(net.linear(`${path}/proj_out`, h, channels, channels, true))
    : net.conv(`${path}/proj_out`, toImage(h), channels, channels, 1);
  return { out: b.op(scope, 'Add', [projected, x]), selfAttention };
}

function basicTransformerBlock(net: Net, path: string, x: string, spec: TransformerSpec): string {
  const { b } = net;
  const scope = b.scope(path);
  const { channels, heads, pattern } = spec;
  const selfAttended = attention(net, pattern, {
    path: `${path}/attn1`,
    x: net.layerNorm(`${path}/norm1`, x, channels, 1e-5),
    queryDim: channels,
    contextDim: channels,
    heads,
    qkvBias: false,
  });
  let h = b.op(scope, 'Add', [selfAttended, x]);
  const crossAttended = attention(net, pattern, {
    path: `${path}/attn2`,
    x: net.layerNorm(`${path}/norm2`, h, channels, 1e-5),
    context: spec.context,
    queryDim: channels,
    contextDim: spec.contextDim,
    heads,
    qkvBias: false,
  });
  h = b.op(scope, 'Add', [crossAttended, h]);
  const fed = feedForward(net, `${path}/ff`, net.layerNorm(`${path}/norm3`, h, channels, 1e-5), channels);
  return b.op(scope, 'Add', [fed, h]);
}

/** FeedForward with GEGLU: net.0.proj to 2 x 4C, value * gelu(gate), net.2 back to C. */
function feedForward(net: Net, path: string, x: string, channels: number): string {
  const { b } = net;
  const inner = 4 * channels;
  const gegluScope = b.scope(`${path}/net.0`);
  const projected = net.linear(`${path}/net.0/proj`, x, channels, 2 * inner, true);
  const [value, gate] = net.chunkLastAxis(gegluScope, projected);
  const gated = b.op(gegluScope, 'Mul', [value, net.gelu(gegluScope, gate)]);
  return net.linear(`${path}/net.2`, gated, inner, channels, true);
}

/**
 * diffusers Timesteps (flip_sin_to_cos=True, downscale_freq_shift=0) on a [N] tensor: float32
 * [N, channels] = [cos(t f), sin(t f)] with f = exp(-ln(10000) i / (channels/2)).
 */
export function timestepProjection(net: Net, path: string, t: string, channels: number): string {
  const { b } = net;
  const scope = b.scope(path);
  const half = channels / 2;
  const frequencies = Array.from({ length: half }, (_, i) => Math.exp((-Math.log(10000) * i) / half));
  const column = net.cast(scope, net.unsqueeze(scope, t, [1]), DataType.FLOAT);
  const angles = b.op(scope, 'Mul', [column, b.constant(scope, DataType.FLOAT, [half], frequencies)]);
  const sinCos = b.op(scope, 'Concat', [b.op(scope, 'Sin', [angles]), b.op(scope, 'Cos', [angles])], { axis: { int: -1 } });
  return b.op(scope, 'Concat', [net.sliceFrom(scope, sinCos, half), net.sliceTo(scope, sinCos, half)], { axis: { int: -1 } });
}

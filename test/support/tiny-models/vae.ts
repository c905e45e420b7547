/**
 * AutoencoderKL split as Optimum exports it: vae_encoder (sample -> latent_sample or
 * latent_parameters) and vae_decoder (latent_sample -> sample, post_quant_conv included; the
 * 1/scaling_factor is the pipeline's job).
 */
import { DataType } from '../../../packages/daemon/src/onnx';
import { attention, type AttentionPattern } from './attention';
import { resnet } from './blocks';
import type { Net } from './net';
import { channelAxis, type ResolvedOptions, type VaeDims } from './options';
import { upsample } from './unet';

const IMAGE_CHANNELS = 3;
const EPS = 1e-6;

export function buildVaeDecoder(net: Net, dims: VaeDims, options: ResolvedOptions): void {
  const { b } = net;
  const { blockOutChannels: channels, latentChannels } = dims;
  const pattern = options.attention;
  const latent = b.input('latent_sample', net.floatType, [
    'batch_size',
    channelAxis(options, latentChannels, 'num_channels_latent'),
    'height_latent',
    'width_latent',
  ]);
  let h = net.conv('/post_quant_conv', latent, latentChannels, latentChannels, 1);
  const top = channels[channels.length - 1];
  h = net.conv('/decoder/conv_in', h, latentChannels, top, 3);
  h = midBlock(net, '/decoder/mid_block', h, top, dims.groups, pattern);
  let previous = top;
  for (let i = 0; i < channels.length; i++) {
    const out = channels[channels.length - 1 - i];
    for (let j = 0; j <= dims.layersPerBlock; j++) {
      h = resnet(net, `/decoder/up_blocks.${i}/resnets.${j}`, h, {
        inChannels: j === 0 ? previous : out,
        outChannels: out,
        groups: dims.groups,
        eps: EPS,
      });
    }
    if (i < channels.length - 1) h = upsample(net, `/decoder/up_blocks.${i}/upsamplers.0`, h, out);
    previous = out;
  }
  h = net.groupNorm('/decoder/conv_norm_out', h, channels[0], dims.groups, EPS);
  h = net.conv('/decoder/conv_out', net.silu('/decoder/conv_act', h), channels[0], IMAGE_CHANNELS, 3);
  b.output(h, 'sample', net.floatType, ['batch_size', channelAxis(options, IMAGE_CHANNELS, 'num_channels'), 'height', 'width']);
}

export function buildVaeEncoder(net: Net, dims: VaeDims, options: ResolvedOptions): void {
  const { b } = net;
  const { blockOutChannels: channels, latentChannels } = dims;
  const pattern = options.attention;
  const image = b.input('sample', net.floatType, ['batch_size', channelAxis(options, IMAGE_CHANNELS, 'num_channels'), 'height', 'width']);
  let h = net.conv('/encoder/conv_in', image, IMAGE_CHANNELS, channels[0], 3);
  for (let i = 0; i < channels.length; i++) {
    const out = channels[i];
    for (let j = 0; j < dims.layersPerBlock; j++) {
      h = resnet(net, `/encoder/down_blocks.${i}/resnets.${j}`, h, {
        inChannels: j === 0 ? channels[Math.max(i - 1, 0)] : out,
        outChannels: out,
        groups: dims.groups,
        eps: EPS,
      });
    }
    if (i < channels.length - 1) h = encoderDownsample(net, `/encoder/down_blocks.${i}/downsamplers.0`, h, out);
  }
  const top = channels[channels.length - 1];
  h = midBlock(net, '/encoder/mid_block', h, top, dims.groups, pattern);
  h = net.groupNorm('/encoder/conv_norm_out', h, top, dims.groups, EPS);
  h = net.conv('/encoder/conv_out', net.silu('/encoder/conv_act', h), top, 2 * latentChannels, 3);
  const moments = net.conv('/quant_conv', h, 2 * latentChannels, 2 * latentChannels, 1);
  const latentDims = (channels: number) => [
    'batch_size',
    channelAxis(options, channels, 'num_channels_latent'),
    'height_latent',
    'width_latent',
  ];
  if (options.vaeEncoderOutput === 'latent_parameters') {
    b.output(moments, 'latent_parameters', net.floatType, latentDims(2 * latentChannels));
    return;
  }
  b.output(sampleLatent(net, moments, latentChannels), 'latent_sample', net.floatType, latentDims(latentChannels));
}

/** DiagonalGaussianDistribution(moments).sample(): mean + exp(0.5 clamp(logvar, -30, 20)) * noise. */
function sampleLatent(net: Net, moments: string, latentChannels: number): string {
  const { b } = net;
  const scope = b.scope('');
  const axis = net.intConst(scope, [1], [1]);
  const slice = (start: number, end: number) =>
    b.op(scope, 'Slice', [moments, net.intConst(scope, [1], [start]), net.intConst(scope, [1], [end]), axis]);
  const mean = slice(0, latentChannels);
  const logVariance = b.op(scope, 'Clip', [
    slice(latentChannels, 2 * latentChannels),
    net.floatConst(scope, [], [-30]),
    net.floatConst(scope, [], [20]),
  ]);
  const std = b.op(scope, 'Exp', [b.op(scope, 'Mul', [logVariance, net.floatConst(scope, [], [0.5])])]);
  const noise = b.op(scope, 'RandomNormalLike', [mean], { dtype: { int: net.floatType } });
  return b.op(scope, 'Add', [mean, b.op(scope, 'Mul', [std, noise])]);
}

/** The VAE encoder's Downsample2D: F.pad (0, 1, 0, 1), then a stride-2 3x3 conv without padding. */
function encoderDownsample(net: Net, path: string, x: string, channels: number): string {
  const { b } = net;
  const scope = b.scope(path);
  const padded = b.op(
    scope,
    'Pad',
    [x, net.intConst(scope, [8], [0, 0, 0, 0, 0, 0, 1, 1]), net.floatConst(scope, [], [0])],
    { mode: { string: 'constant' } },
  );
  return net.conv(`${path}/conv`, padded, channels, channels, 3, { stride: 2, pad: 0 });
}

/** UNetMidBlock2D: resnet, single-head self-attention over pixels with a residual, resnet. */
function midBlock(net: Net, path: string, x: string, channels: number, groups: number, pattern: AttentionPattern): string {
  const spec = { inChannels: channels, outChannels: channels, groups, eps: EPS };
  let h = resnet(net, `${path}/resnets.0`, x, spec);
  h = vaeAttention(net, `${path}/attentions.0`, h, channels, groups, pattern);
  return resnet(net, `${path}/resnets.1`, h, spec);
}

/** diffusers Attention with group_norm and residual_connection on a [B, C, H, W] input. */
function vaeAttention(net: Net, path: string, x: string, channels: number, groups: number, pattern: AttentionPattern): string {
  const { b } = net;
  const scope = b.scope(path);
  const batch = net.dim(scope, x, 0);
  const height = net.dim(scope, x, 2);
  const width = net.dim(scope, x, 3);
  const flat = b.op(scope, 'Reshape', [x, net.shapeOf(scope, [batch, channels, b.op(scope, 'Mul', [height, width])])], {
    allowzero: { int: 0 },
  });
  // view(b, c, h*w).transpose(1, 2), then group_norm(x.transpose(1, 2)).transpose(1, 2): the norm
  // sees [B, C, HW], so its affine parameters fold to [C, 1].
  const normed = net.groupNorm(`${path}/group_norm`, flat, channels, groups, EPS, 1);
  const tokens = b.op(scope, 'Transpose', [normed], { perm: { ints: [0, 2, 1] } });
  const attended = attention(net, pattern, {
    path,
    scope,
    x: tokens,
    queryDim: channels,
    contextDim: channels,
    heads: 1,
    qkvBias: true,
  });
  const image = b.op(
    scope,
    'Reshape',
    [b.op(scope, 'Transpose', [attended], { perm: { ints: [0, 2, 1] } }), net.shapeOf(scope, [batch, channels, height, width])],
    { allowzero: { int: 0 } },
  );
  return b.op(scope, 'Div', [b.op(scope, 'Add', [image, x]), net.floatConst(scope, [], [1])]);
}

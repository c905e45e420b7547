/**
 * UNet2DConditionModel with Optimum's I/O: sample, timestep, encoder_hidden_states (+ SDXL's
 * text_embeds, time_ids; + LCM's timestep_cond) -> out_sample.
 */
import { DataType } from '../../../packages/daemon/src/onnx';
import { resnet, timestepProjection, transformer2d } from './blocks';
import type { Net } from './net';
import { channelAxis, type ResolvedOptions, type UNetDims } from './options';

export const LATENT_CHANNELS = 4;

export interface UNetInfo {
  /** Module paths of every self-attention (attn1), in graph order, with their head counts. */
  selfAttention: { path: string; heads: number }[];
}

export function buildUNet(net: Net, dims: UNetDims, options: ResolvedOptions): UNetInfo {
  const { b } = net;
  const float = net.floatType;
  const root = b.scope('');
  const imageDims = ['batch_size', channelAxis(options, LATENT_CHANNELS, 'num_channels'), 'height', 'width'];
  const sample = b.input('sample', float, imageDims);
  const timestep =
    options.timestep === 'int64-batch' ? b.input('timestep', DataType.INT64, ['steps']) : b.input('timestep', float, []);
  const context = b.input('encoder_hidden_states', float, ['batch_size', 'sequence_length', dims.crossAttentionDim]);

  const [c0] = dims.blockOutChannels;
  const embedDim = 4 * c0;
  // timesteps[None] for a scalar, then .expand(sample.shape[0]).
  const steps = options.timestep === 'float-scalar' ? net.unsqueeze(root, timestep, [0]) : timestep;
  const batch = b.op(root, 'Gather', [b.op(root, 'Shape', [sample]), net.intConst(root, [1], [0])], { axis: { int: 0 } });
  let timeFeatures = net.cast(root, timestepProjection(net, '/time_proj', b.op(root, 'Expand', [steps, batch]), c0), float);
  if (dims.guidanceEmbedDim) {
    // TimestepEmbedding's cond_proj (nn.Linear without bias) adds the guidance embedding to the
    // timestep features before linear_1.
    const condition = b.input('timestep_cond', float, ['batch_size', dims.guidanceEmbedDim]);
    timeFeatures = b.op(root, 'Add', [timeFeatures, net.linear('/time_embedding/cond_proj', condition, dims.guidanceEmbedDim, c0, false)]);
  }
  let emb = net.gemm('/time_embedding/linear_1', timeFeatures, c0, embedDim);
  emb = net.gemm('/time_embedding/linear_2', net.silu('/time_embedding/act', emb), embedDim, embedDim);

  if (dims.addition) {
    const { timeEmbedDim, textEmbedDim } = dims.addition;
    const textEmbeds = b.input('text_embeds', float, ['batch_size', textEmbedDim]);
    const timeIds = b.input('time_ids', float, ['batch_size', 6]);
    const flat = b.op(root, 'Reshape', [timeIds, net.intConst(root, [1], [-1])], { allowzero: { int: 0 } });
    const idFeatures = timestepProjection(net, '/add_time_proj', flat, timeEmbedDim);
    const perItem = b.op(root, 'Reshape', [idFeatures, net.shapeOf(root, [net.dim(root, textEmbeds, 0), -1])], {
      allowzero: { int: 0 },
    });
    // torch.concat promotes a float16 text_embeds to the float32 time features; .to(emb.dtype) casts back.
    const text = float === DataType.FLOAT ? textEmbeds : net.cast(root, textEmbeds, DataType.FLOAT);
    const added = net.cast(root, b.op(root, 'Concat', [text, perItem], { axis: { int: -1 } }), float);
    let aug = net.gemm('/add_embedding/linear_1', added, textEmbedDim + 6 * timeEmbedDim, embedDim);
    aug = net.gemm('/add_embedding/linear_2', net.silu('/add_embedding/act', aug), embedDim, embedDim);
    emb = b.op(root, 'Add', [emb, aug]);
  }

  const temb = { tensor: emb, channels: embedDim };
  const resnetSpec = (inChannels: number, outChannels: number) => ({
    inChannels,
    outChannels,
    groups: dims.groups,
    eps: 1e-5,
    temb,
  });
  const selfAttention: UNetInfo['selfAttention'] = [];
  const transformer = (path: string, x: string, level: number) => {
    const result = transformer2d(net, path, x, {
      channels: dims.blockOutChannels[level],
      heads: dims.heads[level],
      layers: dims.transformerLayers[level],
      groups: dims.groups,
      context,
      contextDim: dims.crossAttentionDim,
      linearProjection: dims.linearProjection,
      pattern: options.attention,
    });
    for (const path of result.selfAttention) selfAttention.push({ path, heads: dims.heads[level] });
    return result.out;
  };

  let h = net.conv('/conv_in', sample, LATENT_CHANNELS, c0, 3);
  const skips = [{ tensor: h, channels: c0 }];
  const levels = dims.blockOutChannels.length;
  for (let level = 0; level < levels; level++) {
    const path = `/down_blocks.${level}`;
    const out = dims.blockOutChannels[level];
    for (let j = 0; j < dims.layersPerBlock; j++) {
      const inChannels = j === 0 ? dims.blockOutChannels[Math.max(level - 1, 0)] : out;
      h = resnet(net, `${path}/resnets.${j}`, h, resnetSpec(inChannels, out));
      if (dims.crossAttention[level]) h = transformer(`${path}/attentions.${j}`, h, level);
      skips.push({ tensor: h, channels: out });
    }
    if (level < levels - 1) {
      h = net.conv(`${path}/downsamplers.0/conv`, h, out, out, 3, { stride: 2 });
      skips.push({ tensor: h, channels: out });
    }
  }

  const deepest = levels - 1;
  const cMid = dims.blockOutChannels[deepest];
  h = resnet(net, '/mid_block/resnets.0', h, resnetSpec(cMid, cMid));
  h = transformer('/mid_block/attentions.0', h, deepest);
  h = resnet(net, '/mid_block/resnets.1', h, resnetSpec(cMid, cMid));

  for (let i = 0; i < levels; i++) {
    const level = levels - 1 - i;
    const path = `/up_blocks.${i}`;
    const scope = b.scope(path);
    const out = dims.blockOutChannels[level];
    const previous = dims.blockOutChannels[Math.min(level + 1, levels - 1)];
    for (let j = 0; j <= dims.layersPerBlock; j++) {
      const skip = skips.pop()!;
      const inChannels = (j === 0 ? previous : out) + skip.channels;
      h = b.op(scope, 'Concat', [h, skip.tensor], { axis: { int: 1 } });
      h = resnet(net, `${path}/resnets.${j}`, h, resnetSpec(inChannels, out));
      if (dims.crossAttention[level]) h = transformer(`${path}/attentions.${j}`, h, level);
    }
    if (level > 0) h = upsample(net, `${path}/upsamplers.0`, h, out);
  }

  h = net.groupNorm('/conv_norm_out', h, c0, dims.groups, 1e-5);
  h = net.conv('/conv_out', net.silu('/conv_act', h), c0, LATENT_CHANNELS, 3);
  b.output(h, 'out_sample', float, imageDims);
  return { selfAttention };
}

/** Upsample2D: nearest 2x (F.interpolate scale_factor=2.0 exports as Resize with scales), then a 3x3 conv. */
export function upsample(net: Net, path: string, x: string, channels: number): string {
  const { b } = net;
  const scope = b.scope(path);
  const scales = b.constant(scope, DataType.FLOAT, [4], [1, 1, 2, 2]);
  const resized = b.op(scope, 'Resize', [x, '', scales], {
    coordinate_transformation_mode: { string: 'asymmetric' },
    cubic_coeff_a: { float: -0.75 },
    mode: { string: 'nearest' },
    nearest_mode: { string: 'floor' },
  });
  return net.conv(`${path}/conv`, resized, channels, channels, 3);
}

/** Generator options and the model sizes they imply. */
import type { AttentionPattern } from './attention';
import type { FloatDtype } from './net';

export type Family = 'sd1' | 'sd2' | 'sdxl';

export interface TinyModelOptions {
  /** Default 'sd1'. */
  family?: Family;
  /** 'fp16': every weight and float graph input/output in float16, like `optimum-cli export onnx --fp16`. Default 'fp32'. */
  dtype?: FloatDtype;
  /** 'external': weights of 1 KiB or more in `model.onnx_data` next to each model.onnx. Default 'inline'. */
  weights?: 'inline' | 'external';
  /** U-Net timestep input: [B] int64 (older exports) or a float scalar (newer). Default 'float-scalar'. */
  timestep?: 'int64-batch' | 'float-scalar';
  /** Default 'sdpa'. */
  attention?: AttentionPattern;
  /** Text encoder input_ids type. Default 'int32'. */
  inputIds?: 'int32' | 'int64';
  /** VAE encoder output: a sampled latent, or mean and log-variance on channels. Default 'latent_parameters'. */
  vaeEncoderOutput?: 'latent_sample' | 'latent_parameters';
  /** 'small' for tests, 'large' for benchmarks (latents 32x32, channels 64/128). Default 'small'. */
  size?: 'small' | 'large';
  /** Default: 'v_prediction' for sd2, 'epsilon' otherwise. */
  prediction?: 'epsilon' | 'v_prediction';
  /** Turbo-style scheduler: EulerAncestralDiscreteScheduler with trailing timestep spacing. Default false. */
  turbo?: boolean;
  /**
   * LCM-distilled (LatentConsistencyModelPipeline): LCMScheduler, and a U-Net that takes the
   * guidance scale as an embedding (`timestep_cond`, `time_cond_proj_dim` in its config). Default false.
   */
  lcm?: boolean;
  /** Weights are a function of the seed and the options only. Default 0. */
  seed?: number;
}

export type ResolvedOptions = Required<TinyModelOptions>;

/**
 * The channel axis of image and latent I/O: older Optimum exports (the ones with a [B] int64
 * timestep) name it (`num_channels`, `num_channels_latent`), newer ones fix it.
 */
export function channelAxis(options: ResolvedOptions, channels: number, name: string): number | string {
  return options.timestep === 'int64-batch' ? name : channels;
}

export function resolveOptions(options: TinyModelOptions): ResolvedOptions {
  const family = options.family ?? 'sd1';
  return {
    family,
    dtype: options.dtype ?? 'fp32',
    weights: options.weights ?? 'inline',
    timestep: options.timestep ?? 'float-scalar',
    attention: options.attention ?? 'sdpa',
    inputIds: options.inputIds ?? 'int32',
    vaeEncoderOutput: options.vaeEncoderOutput ?? 'latent_parameters',
    size: options.size ?? 'small',
    prediction: options.prediction ?? (family === 'sd2' ? 'v_prediction' : 'epsilon'),
    turbo: options.turbo ?? false,
    lcm: options.lcm ?? false,
    seed: options.seed ?? 0,
  };
}

export interface UNetDims {
  blockOutChannels: number[];
  /** Per down block: does it have attentions (CrossAttnDownBlock2D)? */
  crossAttention: boolean[];
  /** Heads per block (diffusers' `attention_head_dim`, which for these models counts heads). */
  heads: number[];
  transformerLayers: number[];
  layersPerBlock: number;
  groups: number;
  sampleSize: number;
  crossAttentionDim: number;
  /** proj_in/proj_out as Linear (SD 2, SDXL) instead of 1x1 Conv (SD 1). */
  linearProjection: boolean;
  /** SDXL's text_time embedding: sizes of the time_ids sinusoid and of the pooled text embedding. */
  addition?: { timeEmbedDim: number; textEmbedDim: number };
  /** LCM's `time_cond_proj_dim`: width of the guidance-scale embedding fed as `timestep_cond`. */
  guidanceEmbedDim?: number;
}

export interface TextEncoderDims {
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  projectionDim: number;
  act: 'quick_gelu' | 'gelu';
  /** CLIPTextModelWithProjection (SDXL's second encoder): text_embeds instead of pooler_output. */
  withProjection: boolean;
  /** SDXL exports output every layer's hidden state (the pipeline uses the penultimate one). */
  hiddenStates: boolean;
  /** The tokenizer files to pair it with: SD 1's pads with <|endoftext|>, OpenCLIP's with '!'. */
  padToken: '<|endoftext|>' | '!';
}

export interface VaeDims {
  blockOutChannels: number[];
  layersPerBlock: number;
  groups: number;
  latentChannels: number;
  scalingFactor: number;
}

export interface ModelDims {
  unet: UNetDims;
  textEncoders: TextEncoderDims[];
  vae: VaeDims;
}

export function modelDims(options: ResolvedOptions): ModelDims {
  const dims = familyDims(options);
  // Real LCM U-Nets use 256; any even width exercises the same graph.
  return options.lcm ? { ...dims, unet: { ...dims.unet, guidanceEmbedDim: 16 } } : dims;
}

function familyDims(options: ResolvedOptions): ModelDims {
  const large = options.size === 'large';
  const blockOutChannels = large ? [64, 128] : [16, 32];
  const layersPerBlock = large ? 2 : 1;
  const groups = large ? 32 : 8;
  const vae: VaeDims = {
    blockOutChannels: large ? [32, 64] : [8, 16],
    layersPerBlock: 1,
    groups: large ? 16 : 4,
    latentChannels: 4,
    scalingFactor: options.family === 'sdxl' ? 0.13025 : 0.18215,
  };
  const hidden = large ? 64 : 32;
  const clip = (act: TextEncoderDims['act'], padToken: TextEncoderDims['padToken'], width: number): TextEncoderDims => ({
    hidden: width,
    layers: 2,
    heads: 2,
    intermediate: 2 * width,
    projectionDim: width,
    act,
    withProjection: false,
    hiddenStates: false,
    padToken,
  });
  // OpenCLIP-style models (SD 2, SDXL) use 64-channel heads; keep a fixed head size for them too.
  const headSize = large ? 32 : 8;
  switch (options.family) {
    case 'sd1':
      return {
        unet: {
          blockOutChannels,
          crossAttention: [true, false],
          heads: [large ? 4 : 2, large ? 4 : 2],
          transformerLayers: [1, 1],
          layersPerBlock,
          groups,
          // The top (attention) level sees sampleSize^2 tokens: 1024 for 'large'.
          sampleSize: large ? 32 : 8,
          crossAttentionDim: hidden,
          linearProjection: false,
        },
        textEncoders: [clip('quick_gelu', '<|endoftext|>', hidden)],
        vae,
      };
    case 'sd2':
      return {
        unet: {
          blockOutChannels,
          crossAttention: [true, false],
          heads: blockOutChannels.map((channels) => channels / headSize),
          transformerLayers: [1, 1],
          layersPerBlock,
          groups,
          sampleSize: large ? 32 : 8,
          crossAttentionDim: hidden,
          linearProjection: true,
        },
        textEncoders: [clip('gelu', '!', hidden)],
        vae,
      };
    case 'sdxl': {
      const first = { ...clip('quick_gelu', '<|endoftext|>', hidden / 2), hiddenStates: true };
      const second = { ...clip('gelu', '!', hidden), withProjection: true, hiddenStates: true };
      return {
        unet: {
          blockOutChannels,
          // SDXL's first level has no attention: its top attention level is one step down, so
          // 'large' doubles the latent size to keep 1024 tokens there.
          crossAttention: [false, true],
          heads: blockOutChannels.map((channels) => channels / headSize),
          transformerLayers: [1, 2],
          layersPerBlock,
          groups,
          sampleSize: large ? 64 : 8,
          crossAttentionDim: first.hidden + second.hidden,
          linearProjection: true,
          addition: { timeEmbedDim: 8, textEmbedDim: second.projectionDim },
        },
        textEncoders: [first, second],
        vae,
      };
    }
  }
}

/** The JSON files of a diffusers pipeline folder, with the fields diffusers/transformers write. */
import { LATENT_CHANNELS } from './unet';
import type { ModelDims, ResolvedOptions, TextEncoderDims, UNetDims, VaeDims } from './options';
import { MAX_POSITIONS } from './text-encoder';

const DIFFUSERS_VERSION = '0.25.0';
const TRANSFORMERS_VERSION = '4.36.2';

export function modelIndex(options: ResolvedOptions): object {
  const xl = options.family === 'sdxl';
  return {
    _class_name: options.lcm ? 'LatentConsistencyModelPipeline' : xl ? 'StableDiffusionXLPipeline' : 'StableDiffusionPipeline',
    _diffusers_version: DIFFUSERS_VERSION,
    ...(xl
      ? { force_zeros_for_empty_prompt: true }
      : { feature_extractor: [null, null], requires_safety_checker: false, safety_checker: [null, null] }),
    scheduler: ['diffusers', schedulerClass(options)],
    text_encoder: ['transformers', 'CLIPTextModel'],
    ...(xl ? { text_encoder_2: ['transformers', 'CLIPTextModelWithProjection'] } : {}),
    tokenizer: ['transformers', 'CLIPTokenizer'],
    ...(xl ? { tokenizer_2: ['transformers', 'CLIPTokenizer'] } : {}),
    unet: ['diffusers', 'UNet2DConditionModel'],
    vae: ['diffusers', 'AutoencoderKL'],
  };
}

/** SD 1.5 ships PNDM, SD 2.x DDIM, SDXL Euler; turbo models Euler ancestral, LCM models LCM. */
function schedulerClass(options: ResolvedOptions): string {
  if (options.lcm) return 'LCMScheduler';
  if (options.turbo) return 'EulerAncestralDiscreteScheduler';
  return { sd1: 'PNDMScheduler', sd2: 'DDIMScheduler', sdxl: 'EulerDiscreteScheduler' }[options.family];
}

export function schedulerConfig(options: ResolvedOptions): object {
  const className = schedulerClass(options);
  const common = {
    _class_name: className,
    _diffusers_version: DIFFUSERS_VERSION,
    beta_end: 0.012,
    beta_schedule: 'scaled_linear',
    beta_start: 0.00085,
    clip_sample: false,
    num_train_timesteps: 1000,
    prediction_type: options.prediction,
    set_alpha_to_one: false,
    steps_offset: 1,
    timestep_spacing: options.turbo ? 'trailing' : 'leading',
    trained_betas: null,
  };
  switch (className) {
    case 'PNDMScheduler':
      return { ...common, skip_prk_steps: true };
    case 'DDIMScheduler':
      return {
        ...common,
        clip_sample_range: 1.0,
        dynamic_thresholding_ratio: 0.995,
        rescale_betas_zero_snr: false,
        sample_max_value: 1.0,
        thresholding: false,
      };
    case 'LCMScheduler':
      // SimianLuo/LCM_Dreamshaper_v7's.
      return { ...common, set_alpha_to_one: true, original_inference_steps: 50, timestep_scaling: 10, clip_sample_range: 1.0, rescale_betas_zero_snr: false, thresholding: false };
    case 'EulerDiscreteScheduler':
      return { ...common, interpolation_type: 'linear', sample_max_value: 1.0, skip_prk_steps: true, use_karras_sigmas: false };
    default:
      return { ...common, rescale_betas_zero_snr: false };
  }
}

export function unetConfig(options: ResolvedOptions, unet: UNetDims): object {
  const sd1 = options.family === 'sd1';
  const downTypes = unet.crossAttention.map((cross) => (cross ? 'CrossAttnDownBlock2D' : 'DownBlock2D'));
  const upTypes = [...unet.crossAttention].reverse().map((cross) => (cross ? 'CrossAttnUpBlock2D' : 'UpBlock2D'));
  const sameEverywhere = <T>(values: T[]) => values.every((value) => value === values[0]);
  return {
    _class_name: 'UNet2DConditionModel',
    _diffusers_version: DIFFUSERS_VERSION,
    act_fn: 'silu',
    addition_embed_type: unet.addition ? 'text_time' : null,
    addition_embed_type_num_heads: 64,
    addition_time_embed_dim: unet.addition?.timeEmbedDim ?? null,
    // Despite its name this counts heads for SD 1/2/XL; SD 1 writes one int, SD 2 and SDXL a list.
    attention_head_dim: sd1 && sameEverywhere(unet.heads) ? unet.heads[0] : unet.heads,
    block_out_channels: unet.blockOutChannels,
    center_input_sample: false,
    class_embed_type: null,
    cross_attention_dim: unet.crossAttentionDim,
    down_block_types: downTypes,
    downsample_padding: 1,
    dual_cross_attention: false,
    flip_sin_to_cos: true,
    freq_shift: 0,
    in_channels: LATENT_CHANNELS,
    layers_per_block: unet.layersPerBlock,
    mid_block_scale_factor: 1,
    mid_block_type: 'UNetMidBlock2DCrossAttn',
    norm_eps: 1e-5,
    norm_num_groups: unet.groups,
    num_attention_heads: null,
    num_class_embeds: null,
    only_cross_attention: false,
    out_channels: LATENT_CHANNELS,
    projection_class_embeddings_input_dim: unet.addition
      ? unet.addition.textEmbedDim + 6 * unet.addition.timeEmbedDim
      : null,
    resnet_time_scale_shift: 'default',
    sample_size: unet.sampleSize,
    time_cond_proj_dim: unet.guidanceEmbedDim ?? null,
    time_embedding_type: 'positional',
    transformer_layers_per_block: sameEverywhere(unet.transformerLayers) ? unet.transformerLayers[0] : unet.transformerLayers,
    up_block_types: upTypes,
    upcast_attention: false,
    use_linear_projection: unet.linearProjection,
  };
}

export function textEncoderConfig(options: ResolvedOptions, dims: TextEncoderDims, vocabSize: number): object {
  return {
    architectures: [dims.withProjection ? 'CLIPTextModelWithProjection' : 'CLIPTextModel'],
    attention_dropout: 0.0,
    bos_token_id: 0,
    dropout: 0.0,
    // transformers reads eos_token_id 2 as "pool at the argmax id", which is what these graphs do.
    eos_token_id: 2,
    hidden_act: dims.act,
    hidden_size: dims.hidden,
    initializer_factor: 1.0,
    initializer_range: 0.02,
    intermediate_size: dims.intermediate,
    layer_norm_eps: 1e-5,
    max_position_embeddings: MAX_POSITIONS,
    model_type: 'clip_text_model',
    num_attention_heads: dims.heads,
    num_hidden_layers: dims.layers,
    pad_token_id: 1,
    projection_dim: dims.projectionDim,
    torch_dtype: options.dtype === 'fp16' ? 'float16' : 'float32',
    transformers_version: TRANSFORMERS_VERSION,
    vocab_size: vocabSize,
  };
}

export function vaeConfig(options: ResolvedOptions, vae: VaeDims, dims: ModelDims): object {
  const levels = vae.blockOutChannels.length;
  return {
    _class_name: 'AutoencoderKL',
    _diffusers_version: DIFFUSERS_VERSION,
    act_fn: 'silu',
    block_out_channels: vae.blockOutChannels,
    down_block_types: new Array(levels).fill('DownEncoderBlock2D'),
    ...(options.family === 'sdxl' ? { force_upcast: true } : {}),
    in_channels: 3,
    latent_channels: vae.latentChannels,
    layers_per_block: vae.layersPerBlock,
    norm_num_groups: vae.groups,
    out_channels: 3,
    // Pixels per latent side: 2^(levels - 1).
    sample_size: dims.unet.sampleSize * 2 ** (levels - 1),
    scaling_factor: vae.scalingFactor,
    up_block_types: new Array(levels).fill('UpDecoderBlock2D'),
  };
}

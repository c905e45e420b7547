import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { modelInfoSchema, recommendedStyleAlignedSchema, type ModelInfo, type RecommendedStyleAligned } from '@styleset/protocol';
import * as z from 'zod';
import { ModelError } from '../errors';
import type { SamplerKind } from '../scheduler/config';
import { booleanField, numberArrayField, numberField, readJsonObject, stringField } from './json-file';
import { selfAttentionActivations } from './unet-attention';

/** Model families differ in text conditioning (SDXL: two encoders, pooled embeds, time ids). */
export type ModelFamily = 'sd1' | 'sd2' | 'sdxl';


export interface TextEncoderLayout {
  onnx: string;
  tokenizerDir: string;
  /** Hidden width of the encoder, when its config.json says. */
  hiddenSize?: number;
  /** Activation named in its config.json ('quick_gelu' for OpenAI CLIP, 'gelu' for OpenCLIP). */
  hiddenAct?: string;
}

export interface ModelLayout {
  dir: string;
  family: ModelFamily;
  pipelineClass: string;
  unet: {
    onnx: string;
    sampleSize: number;
    inChannels: number;
    crossAttentionDim?: number;
    /** `block_out_channels[0]`: the channels at the top (latent-sized) level, which set a batch row's memory. */
    topChannels: number;
    /** LCM-distilled U-Nets: `time_cond_proj_dim`, the width of the guidance embedding they take as `timestep_cond`. */
    guidanceEmbedDim?: number;
    /** Its self-attention layers' tokens x channels per image row, in top-level activations (unet-attention.ts). */
    selfAttentionActivations: number;
  };
  textEncoders: TextEncoderLayout[];
  vaeDecoder: { onnx: string };
  /** Absent in exports made for text-to-image only; needed for reference images. */
  vaeEncoder?: { onnx: string };
  vae: { scalingFactor: number; downscale: number; latentChannels: number };
  /** The raw scheduler_config.json; the scheduler module validates the fields it uses. */
  schedulerConfig: Record<string, unknown>;
  schedulerFile: string;
  nativeWidth: number;
  nativeHeight: number;
  /**
   * The sampler and defaults the model expects (turbo/LCM models need few steps, no guidance),
   * with the guidance and StyleAligned settings its folder recommends (`styleset.json`), if any.
   */
  defaults: { sampler: SamplerKind; steps: number; guidance: number; referenceGuidance?: number; styleAligned?: RecommendedStyleAligned };
  /** SDXL: an empty negative prompt is all-zero embeddings rather than the encoded empty string. */
  forceZerosForEmptyPrompt: boolean;
}

const LAYOUT_HINT =
  'expected a diffusers/Optimum ONNX export: model_index.json, unet/model.onnx, text_encoder/model.onnx, ' +
  'tokenizer/{vocab.json,merges.txt}, vae_decoder/model.onnx, scheduler/scheduler_config.json ' +
  '(SDXL also text_encoder_2/ and tokenizer_2/)';

function requireFile(dir: string, rel: string, what: string): string {
  const path = join(dir, rel);
  if (!existsSync(path)) throw new ModelError(`${path} is missing: ${what} (${LAYOUT_HINT})`);
  if (!statSync(path).isFile()) throw new ModelError(`${path} is not a file: ${what}`);
  return path;
}

async function optionalConfig(path: string, what: string): Promise<Record<string, unknown>> {
  return existsSync(path) ? readJsonObject(path, what) : {};
}

function tokenizerDir(dir: string, name: string): string {
  requireFile(dir, join(name, 'vocab.json'), 'the CLIP tokenizer vocabulary');
  requireFile(dir, join(name, 'merges.txt'), 'the CLIP tokenizer merges');
  return join(dir, name);
}

/**
 * The sampler implied by the exported scheduler class: distilled models must keep theirs. LCM
 * models that embed the guidance scale default to diffusers' LatentConsistencyModelPipeline's 8.5;
 * LCM-LoRA merges (no embedding) run without classifier-free guidance.
 */
function samplerDefaults(schedulerClass: string, embedsGuidance: boolean): ModelLayout['defaults'] {
  if (schedulerClass === 'LCMScheduler') return { sampler: 'lcm', steps: 4, guidance: embedsGuidance ? 8.5 : 1 };
  if (schedulerClass === 'EulerAncestralDiscreteScheduler') return { sampler: 'euler_ancestral', steps: 1, guidance: 0 };
  // The StyleAligned reference implementation samples with DDIM, 50 steps, guidance 7.5 (SD) / 10 (image path).
  return { sampler: 'ddim', steps: 50, guidance: 7.5 };
}

/**
 * Reads and checks a model folder without loading any weights. Every missing or malformed file
 * is reported by path with what was expected there.
 */
export async function readModelLayout(dir: string): Promise<ModelLayout> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ModelError(`${dir} is not a folder (${LAYOUT_HINT})`);
  }
  const indexPath = requireFile(dir, 'model_index.json', 'the pipeline index');
  const index = await readJsonObject(indexPath, 'the pipeline index');
  const pipelineClass = stringField(index, '_class_name', indexPath);
  const isXl = /XL/.test(pipelineClass) || 'text_encoder_2' in index;

  const unetConfigPath = join(dir, 'unet', 'config.json');
  const unetConfig = await optionalConfig(unetConfigPath, 'the U-Net config');
  const unet = {
    onnx: requireFile(dir, join('unet', 'model.onnx'), 'the U-Net'),
    sampleSize: numberField(unetConfig, 'sample_size', unetConfigPath, isXl ? 128 : 64),
    inChannels: numberField(unetConfig, 'in_channels', unetConfigPath, 4),
    crossAttentionDim: unetConfig.cross_attention_dim === undefined ? undefined : numberField(unetConfig, 'cross_attention_dim', unetConfigPath),
    // SD 1.x, 2.x and SDXL all start at 320.
    topChannels: numberArrayField(unetConfig, 'block_out_channels', unetConfigPath, [320])[0],
    guidanceEmbedDim: unetConfig.time_cond_proj_dim == null ? undefined : numberField(unetConfig, 'time_cond_proj_dim', unetConfigPath),
    selfAttentionActivations: selfAttentionActivations(unetConfig, unetConfigPath, isXl),
  };

  const textEncoders: TextEncoderLayout[] = [];
  for (const [encoder, tokenizer] of isXl
    ? [['text_encoder', 'tokenizer'], ['text_encoder_2', 'tokenizer_2']]
    : [['text_encoder', 'tokenizer']]) {
    const configPath = join(dir, encoder, 'config.json');
    const config = await optionalConfig(configPath, 'the text encoder config');
    textEncoders.push({
      onnx: requireFile(dir, join(encoder, 'model.onnx'), 'a text encoder'),
      tokenizerDir: tokenizerDir(dir, tokenizer),
      hiddenSize: config.hidden_size === undefined ? undefined : numberField(config, 'hidden_size', configPath),
      hiddenAct: config.hidden_act === undefined ? undefined : stringField(config, 'hidden_act', configPath),
    });
  }

  const vaeDecoderOnnx = requireFile(dir, join('vae_decoder', 'model.onnx'), 'the VAE decoder');
  const vaeConfigPath = join(dir, 'vae_decoder', 'config.json');
  const vaeConfig = await optionalConfig(vaeConfigPath, 'the VAE config');
  const vae = {
    scalingFactor: numberField(vaeConfig, 'scaling_factor', vaeConfigPath, isXl ? 0.13025 : 0.18215),
    downscale: 2 ** (numberArrayField(vaeConfig, 'block_out_channels', vaeConfigPath, [128, 256, 512, 512]).length - 1),
    latentChannels: numberField(vaeConfig, 'latent_channels', vaeConfigPath, unet.inChannels),
  };
  if (vae.latentChannels !== unet.inChannels) {
    throw new ModelError(`${vaeConfigPath}: latent_channels ${vae.latentChannels} does not match the U-Net's in_channels ${unet.inChannels} (${unetConfigPath})`);
  }
  const vaeEncoderPath = join(dir, 'vae_encoder', 'model.onnx');

  const schedulerFile = requireFile(dir, join('scheduler', 'scheduler_config.json'), 'the scheduler config');
  const schedulerConfig = await readJsonObject(schedulerFile, 'the scheduler config');
  const schedulerClass = stringField(schedulerConfig, '_class_name', schedulerFile, 'DDIMScheduler');

  const family: ModelFamily = isXl ? 'sdxl' : isSd2(textEncoders[0]) ? 'sd2' : 'sd1';
  const size = unet.sampleSize * vae.downscale;
  return {
    dir,
    family,
    pipelineClass,
    unet,
    textEncoders,
    vaeDecoder: { onnx: vaeDecoderOnnx },
    vaeEncoder: existsSync(vaeEncoderPath) ? { onnx: vaeEncoderPath } : undefined,
    vae,
    schedulerConfig,
    schedulerFile,
    nativeWidth: size,
    nativeHeight: size,
    defaults: { ...samplerDefaults(schedulerClass, unet.guidanceEmbedDim !== undefined), ...(await recommendations(dir)) },
    forceZerosForEmptyPrompt: isXl && booleanField(index, 'force_zeros_for_empty_prompt', indexPath, true),
  };
}

/** The file a model folder may add (none of diffusers' or Optimum's) to recommend Styleset settings. */
export const RECOMMENDATIONS_FILE = 'styleset.json';

/**
 * `styleset.json`: the guidance and StyleAligned settings the model's sets work best with (Styleset's
 * embedded model shares GroupNorm statistics, and guides less than SD's 7.5 and the image path's
 * 10, which over-saturate and texture a small model's surfaces). Checked as a job's options are.
 */
async function recommendations(dir: string): Promise<Partial<Pick<ModelLayout['defaults'], 'guidance' | 'referenceGuidance' | 'styleAligned'>>> {
  const path = join(dir, RECOMMENDATIONS_FILE);
  if (!existsSync(path)) return {};
  const file = await readJsonObject(path, "the model's recommended settings");
  const unknown = Object.keys(file).filter((key) => !RECOMMENDABLE.includes(key));
  if (unknown.length > 0) throw new ModelError(`${path}: unknown key "${unknown[0]}" (expected only ${RECOMMENDABLE.map((key) => `"${key}"`).join(' or ')})`);
  const parsed = recommendationsSchema.safeParse(file);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ModelError(`${path}: ${issue.path.length > 0 ? issue.path.join('.') : 'the file'}: ${issue.message}`);
  }
  const { guidance, styleAligned } = parsed.data;
  // One guidance for both paths: what over-saturates a model's sets does so to its reference sets.
  return { ...(guidance !== undefined && { guidance, referenceGuidance: guidance }), ...(styleAligned !== undefined && { styleAligned }) };
}

const recommendationsSchema = z.object({
  guidance: modelInfoSchema.shape.defaults.shape.guidance.optional(),
  styleAligned: recommendedStyleAlignedSchema.optional(),
});
const RECOMMENDABLE = Object.keys(recommendationsSchema.shape);

/** A model's defaults as clients see them (`ModelInfo.defaults`). */
export function modelDefaults(layout: ModelLayout): ModelInfo['defaults'] {
  const { sampler, steps, guidance, referenceGuidance, styleAligned } = layout.defaults;
  return { scheduler: sampler, steps, guidance, ...(referenceGuidance !== undefined && { referenceGuidance }), ...(styleAligned && { styleAligned }) };
}

/** SD 2.x uses OpenCLIP (hidden size 1024, plain GELU); SD 1.x uses OpenAI CLIP (768, quick GELU). */
function isSd2(encoder: TextEncoderLayout): boolean {
  return encoder.hiddenSize === 1024 || encoder.hiddenAct === 'gelu';
}

import { ModelError } from '../errors';
import type { ModelLayout } from '../model/layout';
import type { OnnxModel } from '../model/onnx-session';
import type { Feed, FloatTensor } from '../model/tensor';
import { guidanceScaleEmbedding } from '../scheduler/guidance';

export interface UnetCall {
  /** Model input for this step: [B, C, h, w], already scaled by the sampler. */
  latents: FloatTensor;
  timestep: number;
  /** [B, tokens, width], one row per batch item. */
  hidden: FloatTensor;
  /** SDXL: [B, width]. */
  pooled?: FloatTensor;
  /** Extra model inputs (the shared-attention controls of a rewritten U-Net). */
  extra?: Record<string, Feed>;
  /** The guidance scale, for U-Nets that take it as an embedding (LCM); others ignore it. */
  guidance?: number;
}

/**
 * Feeds a U-Net export in whatever form it declares: `timestep` as int64 [B], a float scalar
 * or [1]; SDXL's `text_embeds` and `time_ids`.
 */
export class UnetRunner {
  readonly isXl: boolean;
  /**
   * LCM-distilled U-Nets take the guidance scale as an embedding of this width (`timestep_cond`)
   * and must not get classifier-free guidance on top; undefined for every other U-Net.
   */
  readonly guidanceEmbedDim: number | undefined;
  private readonly timestepForm: 'scalar' | 'one' | 'batch';
  private readonly output: string;

  constructor(
    readonly model: OnnxModel,
    private readonly layout: ModelLayout,
  ) {
    for (const name of ['sample', 'timestep', 'encoder_hidden_states']) model.input(name);
    this.isXl = model.hasInput('text_embeds');
    if (this.isXl) model.input('time_ids');
    if (layout.family === 'sdxl' && !this.isXl) {
      throw new ModelError(`${model.path}: an SDXL U-Net needs inputs text_embeds and time_ids`);
    }
    this.guidanceEmbedDim = guidanceEmbedWidth(model, layout);
    const shape = model.input('timestep').shape;
    this.timestepForm = shape.length === 0 ? 'scalar' : shape.length === 1 && shape[0] === 1 ? 'one' : 'batch';
    this.output = model.outputNames.includes('out_sample') ? 'out_sample' : model.outputNames[0];
  }

  async predict(call: UnetCall, height: number, width: number): Promise<FloatTensor> {
    return (await this.predictWith(call, height, width, [])).sample;
  }

  /** The prediction and more of the model's outputs (a lockstep U-Net's reference tensors). */
  async predictWith(call: UnetCall, height: number, width: number, outputs: readonly string[]): Promise<{ sample: FloatTensor; outputs: Record<string, FloatTensor> }> {
    const batch = call.latents.dims[0];
    const feeds: Record<string, Feed> = {
      sample: call.latents,
      timestep: this.timestepFeed(call.timestep, batch),
      encoder_hidden_states: call.hidden,
      ...call.extra,
    };
    if (this.guidanceEmbedDim !== undefined) {
      if (call.guidance === undefined) throw new Error('this U-Net embeds the guidance scale, and the call gave none');
      const row = guidanceScaleEmbedding(call.guidance - 1, this.guidanceEmbedDim);
      const data = new Float32Array(batch * row.length);
      for (let i = 0; i < batch; i++) data.set(row, i * row.length);
      feeds.timestep_cond = { data, dims: [batch, row.length] };
    }
    if (this.isXl) {
      if (!call.pooled) throw new Error('SDXL U-Net call without pooled text embeddings');
      feeds.text_embeds = call.pooled;
      feeds.time_ids = timeIds(batch, height, width);
    }
    const result = await this.model.run(feeds, [this.output, ...outputs]);
    const { [this.output]: sample, ...more } = result;
    return { sample, outputs: more };
  }

  private timestepFeed(t: number, batch: number): Feed {
    // Samplers may produce fractional timesteps; integer exports get them rounded at the boundary.
    const dims = this.timestepForm === 'scalar' ? [] : this.timestepForm === 'one' ? [1] : [batch];
    const count = this.timestepForm === 'batch' ? batch : 1;
    return { data: new Float32Array(count).fill(t), dims };
  }
}

/** Whether classifier-free guidance runs: an unconditional half of the batch, mixed in by the scale. */
export function usesClassifierFreeGuidance(unet: UnetRunner, guidance: number): boolean {
  return unet.guidanceEmbedDim === undefined && guidance > 1;
}

/** The width of `timestep_cond` from the model, else from unet/config.json's `time_cond_proj_dim`. */
function guidanceEmbedWidth(model: OnnxModel, layout: ModelLayout): number | undefined {
  if (!model.hasInput('timestep_cond')) return undefined;
  const declared = model.input('timestep_cond').shape[1];
  const width = typeof declared === 'number' && declared > 0 ? declared : layout.unet.guidanceEmbedDim;
  if (width === undefined) {
    throw new ModelError(`${model.path}: the U-Net takes timestep_cond, but neither the model nor unet/config.json ("time_cond_proj_dim") gives its width`);
  }
  return width;
}

/** SDXL micro-conditioning: original size, crop (0, 0), target size, all the image size here. */
function timeIds(batch: number, height: number, width: number): FloatTensor {
  const row = [height, width, 0, 0, height, width];
  const data = new Float32Array(batch * 6);
  for (let i = 0; i < batch; i++) data.set(row, i * 6);
  return { data, dims: [batch, 6] };
}

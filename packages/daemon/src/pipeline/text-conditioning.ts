import { ModelError } from '../errors';
import type { ModelLayout } from '../model/layout';
import type { OnnxModel } from '../model/onnx-session';
import { concatBatch, sliceBatch, type FloatTensor } from '../model/tensor';
import { ClipTokenizer } from '../tokenizer/clip-tokenizer';

/** What the U-Net is conditioned on, one row per prompt. */
export interface TextConditioning {
  /** `encoder_hidden_states`: [N, tokens, width]. */
  hidden: FloatTensor;
  /** SDXL's pooled embedding (`text_embeds`): [N, width]. */
  pooled?: FloatTensor;
}

interface EncoderUnit {
  tokenizer: ClipTokenizer;
  model: OnnxModel;
  /** The output whose hidden states condition the U-Net. */
  hiddenOutput: string;
  /** SDXL's second encoder also provides the pooled embedding. */
  pooledOutput?: string;
}

/** SDXL conditions on the penultimate hidden state: `hidden_states.{L-1}` of `hidden_states.0..L`. */
function penultimateHiddenState(model: OnnxModel): string {
  const indices = model.outputNames
    .map((n) => /^hidden_states\.(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]));
  if (indices.length < 2) {
    throw new ModelError(
      `${model.path}: an SDXL text encoder must export its hidden states (outputs hidden_states.0 .. hidden_states.N); it has ${model.outputNames.join(', ')}`,
    );
  }
  return `hidden_states.${Math.max(...indices) - 1}`;
}

/**
 * Turns prompts into U-Net conditioning: one CLIP encoder for SD 1.x/2.x, two for SDXL, whose
 * penultimate hidden states are concatenated on the channel axis.
 */
export class TextConditioner {
  private constructor(
    private readonly units: EncoderUnit[],
    private readonly zerosForEmptyPrompt: boolean,
  ) {}

  static async create(layout: ModelLayout, models: OnnxModel[]): Promise<TextConditioner> {
    const units: EncoderUnit[] = [];
    for (const [i, entry] of layout.textEncoders.entries()) {
      const model = models[i];
      const tokenizer = await ClipTokenizer.fromDir(entry.tokenizerDir);
      model.input('input_ids');
      if (layout.family === 'sdxl') {
        const unit: EncoderUnit = { tokenizer, model, hiddenOutput: penultimateHiddenState(model) };
        if (i === layout.textEncoders.length - 1) {
          model.requireOutput('text_embeds');
          unit.pooledOutput = 'text_embeds';
        }
        units.push(unit);
      } else {
        model.requireOutput('last_hidden_state');
        units.push({ tokenizer, model, hiddenOutput: 'last_hidden_state' });
      }
    }
    return new TextConditioner(units, layout.forceZerosForEmptyPrompt);
  }

  async encode(prompts: readonly string[]): Promise<TextConditioning> {
    if (prompts.length === 0) throw new Error('encode needs at least one prompt');
    const hiddens: FloatTensor[] = [];
    let pooled: FloatTensor | undefined;
    for (const unit of this.units) {
      const ids = prompts.map((p) => unit.tokenizer.encode(p).ids);
      const length = ids[0].length;
      const flat = new Int32Array(prompts.length * length);
      ids.forEach((row, i) => flat.set(row, i * length));
      const outputs = [unit.hiddenOutput, ...(unit.pooledOutput ? [unit.pooledOutput] : [])];
      const result = await unit.model.run({ input_ids: { ints: flat, dims: [prompts.length, length] } }, outputs);
      hiddens.push(result[unit.hiddenOutput]);
      if (unit.pooledOutput) pooled = result[unit.pooledOutput];
    }
    const conditioning: TextConditioning = { hidden: concatChannels(hiddens), pooled };
    if (this.zerosForEmptyPrompt) zeroEmptyPrompts(conditioning, prompts);
    return conditioning;
  }
}

/** Concatenates [N, T, Ci] tensors into [N, T, sum Ci]. */
export function concatChannels(parts: readonly FloatTensor[]): FloatTensor {
  if (parts.length === 1) return parts[0];
  const [n, t] = parts[0].dims;
  for (const p of parts) {
    if (p.dims[0] !== n || p.dims[1] !== t) {
      throw new ModelError(`text encoders disagree on shape: [${parts.map((q) => q.dims.join('x')).join('], [')}]`);
    }
  }
  const width = parts.reduce((w, p) => w + p.dims[2], 0);
  const data = new Float32Array(n * t * width);
  for (let row = 0; row < n * t; row++) {
    let offset = row * width;
    for (const p of parts) {
      const c = p.dims[2];
      data.set(p.data.subarray(row * c, row * c + c), offset);
      offset += c;
    }
  }
  return { data, dims: [n, t, width] };
}

/** SDXL's `force_zeros_for_empty_prompt`: an empty prompt conditions on nothing at all. */
function zeroEmptyPrompts(c: TextConditioning, prompts: readonly string[]): void {
  const hiddenRow = c.hidden.dims[1] * c.hidden.dims[2];
  prompts.forEach((p, i) => {
    if (p.trim() !== '') return;
    c.hidden.data.fill(0, i * hiddenRow, (i + 1) * hiddenRow);
    if (c.pooled) {
      const w = c.pooled.dims[1];
      c.pooled.data.fill(0, i * w, (i + 1) * w);
    }
  });
}

/** Rows of `b` after rows of `a`: the guided batch layout [uncond..., cond...]. */
export function stackConditioning(a: TextConditioning, b: TextConditioning): TextConditioning {
  return {
    hidden: concatBatch([a.hidden, b.hidden]),
    pooled: a.pooled && b.pooled ? concatBatch([a.pooled, b.pooled]) : undefined,
  };
}

/** The given rows, in order (a row may repeat). */
export function pickRows(c: TextConditioning, rows: readonly number[]): TextConditioning {
  const pick = (t: FloatTensor) => concatBatch(rows.map((r) => sliceBatch(t, r, r + 1)));
  return { hidden: pick(c.hidden), pooled: c.pooled ? pick(c.pooled) : undefined };
}

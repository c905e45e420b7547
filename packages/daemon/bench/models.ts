import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultModelDir } from '../src/model/default-model';
import { generateTinyModel, type TinyModelOptions } from '../../../test/support/tiny-models';

/** A model folder the benchmark runs, under a short id used in tables and file names. */
export interface BenchModel {
  id: string;
  label: string;
  dir: string;
}

/**
 * The largest generated tiny models (test/support/tiny-models, `size: 'large'`): random weights,
 * so their images mean nothing, but their graphs have the structure and the attention sizes
 * (1024 tokens at the top attention level) whose cost the benchmark is about. External weights,
 * as real exports of any size have.
 */
const TINY: Record<string, { label: string; options: TinyModelOptions }> = {
  'sd1-large': { label: 'tiny SD 1.x, large', options: { family: 'sd1', size: 'large', weights: 'external' } },
  'sdxl-large': { label: 'tiny SDXL, large', options: { family: 'sdxl', size: 'large', weights: 'external' } },
};

/** The fp16 export of the SD 1.x model, for the "fp16 on CPU" comparison of the session options. */
export const FP16_MODEL = 'sd1-large-fp16';

/** The embedded default model, found where the CLI finds it, or why it is not benchmarked. */
export function defaultModel(): BenchModel | { missing: string } {
  const dir = defaultModelDir();
  if (!existsSync(join(dir, 'model_index.json'))) {
    return { missing: 'the embedded default model is not installed in packages/daemon/models/default (training/README.md, "Recipe", step 3 exports it)' };
  }
  return { id: 'default', label: 'default (embedded icons)', dir };
}

/** Generates the tiny models into `root` (a second or so: they are a pure function of their options). */
export async function generateTinyModels(root: string): Promise<BenchModel[]> {
  const models: BenchModel[] = [];
  for (const [id, { label, options }] of Object.entries(TINY)) {
    const dir = join(root, id);
    await rm(dir, { recursive: true, force: true });
    await generateTinyModel(dir, options);
    models.push({ id, label, dir });
  }
  return models;
}

/**
 * The SD 1.x model as `--fp16` exports it: run as exported (ONNX Runtime's CPU provider wraps its
 * float16 nodes in Casts) and from the float32 copies the pipeline makes by default.
 */
export async function generateFp16Model(root: string): Promise<BenchModel> {
  const dir = join(root, FP16_MODEL);
  await rm(dir, { recursive: true, force: true });
  await generateTinyModel(dir, { ...TINY['sd1-large'].options, dtype: 'fp16' });
  return { id: FP16_MODEL, label: 'tiny SD 1.x, large, fp16 export', dir };
}

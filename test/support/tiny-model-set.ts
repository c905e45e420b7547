import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTinyModel, type TinyModel, type TinyModelOptions } from './tiny-models';

/**
 * Generates named tiny models into one temporary folder for a test file; `dispose` removes it.
 */
export async function tinyModelSet<K extends string>(variants: Record<K, TinyModelOptions>): Promise<{
  root: string;
  models: Record<K, TinyModel>;
  dispose: () => Promise<void>;
}> {
  const root = await mkdtemp(join(tmpdir(), 'styleset-models-'));
  const models = {} as Record<K, TinyModel>;
  for (const [name, options] of Object.entries(variants) as [K, TinyModelOptions][]) {
    models[name] = await generateTinyModel(join(root, name), options);
  }
  return { root, models, dispose: () => rm(root, { recursive: true, force: true }) };
}

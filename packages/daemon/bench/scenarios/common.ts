import { resolveOptions, type ModelInfo, type SetOptions } from '@styleset/protocol';
import type { EngineJob, EngineOutcome } from '../../src/engine/engine';
import { PipelineEngine } from '../../src/engine/pipeline-engine';
import type { RuntimeOptions } from '../../src/model/runtime';
import type { BenchModel } from '../models';

export const CPU: RuntimeOptions = { provider: 'cpu' };

/** Every timed set uses this seed: runs differ only in what is measured. */
export const SEED = 7;

/** An engine over one model, as `styleset generate` opens it, with its caches in `dataDir`. */
export async function openEngine(model: BenchModel, dataDir: string, runtime: RuntimeOptions = CPU): Promise<{ engine: PipelineEngine; info: ModelInfo }> {
  const engine = new PipelineEngine({ models: [{ id: model.id, dir: model.dir }], defaultModelId: model.id, runtime, dataDir });
  const [info] = await engine.listModels();
  return { engine, info };
}

/** Names the default model was trained on, the README's main job first. */
const NAMES = ['home', 'search', 'settings', 'user', 'bell', 'mail', 'calendar', 'camera', 'cart', 'heart', 'star', 'trash', 'lock', 'globe', 'folder', 'phone'];

/**
 * Prompts of a set: the reference, then `targets` more, in the default model's caption vocabulary
 * (the tiny models tokenize anything) so that every model sees the same text.
 */
export function setPrompts(targets: number): string[] {
  return Array.from({ length: targets + 1 }, (_, i) => `a ${NAMES[i % NAMES.length]} icon`);
}

/** A `set` job as the daemon would run it: the model's defaults, then `options`. */
export function setJob(info: ModelInfo, targets: number, options: SetOptions): EngineJob {
  const resolved = resolveOptions('set', info, { seed: SEED, ...options });
  return { kind: 'set', prompts: setPrompts(targets), options: { ...resolved, model: info.id, seed: SEED } };
}

/** Runs a job to its end with results dropped (their PNGs are still encoded: that is part of a set). */
export async function runJob(engine: PipelineEngine, job: EngineJob): Promise<{ wallMs: number; outcome: EngineOutcome }> {
  const started = performance.now();
  const outcome = await engine.run(job, { onProgress: () => {}, onResult: async () => {} }, new AbortController().signal);
  return { wallMs: performance.now() - started, outcome };
}

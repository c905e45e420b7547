import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import type { ModelInfo } from '@styleset/protocol';
import { resolveDirs } from '../config/paths';
import { PipelineEngine } from '../engine/pipeline-engine';
import { defaultModelDir, EMBEDDED_MODEL_ID } from '../model/default-model';
import { addRuntimeOptions, runtimeFromFlags, type RuntimeFlags } from './runtime-flags';

export interface LocalEngineFlags extends RuntimeFlags {
  model?: string;
  dataDir?: string;
}

/** The options of commands that run the pipeline in-process rather than through a daemon. */
export function addLocalEngineOptions(command: Command): Command {
  return addRuntimeOptions(command.option('-m, --model <dir>', 'model folder in the diffusers/Optimum ONNX layout (default: the embedded icon model)'))
    .option('--data-dir <dir>', 'where derived models (the rewritten U-Net, float32 copies) and inverted trajectories are cached (default: $STYLESET_DATA_DIR, else the platform data folder)');
}

/** An engine over the one model a CLI run uses, sharing the daemon's caches in the data folder. */
export async function openLocalEngine(flags: LocalEngineFlags): Promise<{ engine: PipelineEngine; model: ModelInfo }> {
  const embedded = flags.model === undefined;
  const dir = resolve(flags.model ?? defaultModelDir());
  const id = embedded ? EMBEDDED_MODEL_ID : basename(dir);
  const engine = new PipelineEngine({
    models: [{ id, dir, embedded }],
    defaultModelId: id,
    runtime: runtimeFromFlags(flags),
    dataDir: resolveDirs({ dataDir: flags.dataDir }).dataDir,
  });
  const [model] = await engine.listModels();
  return { engine, model };
}

import { basename, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import type { ModelInfo } from '@styleset/protocol';
import { resolveDirs } from '../config/paths';
import { EMBEDDED_MODEL_ID } from '../engine/create-engine';
import { PipelineEngine } from '../engine/pipeline-engine';
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '../model/runtime';
import { integer } from './arguments';
import { defaultModelDir } from './default-model';

export interface LocalEngineFlags {
  model?: string;
  provider: ExecutionProvider;
  threads?: number;
  dataDir?: string;
}

/** The options of commands that run the pipeline in-process rather than through a daemon. */
export function addLocalEngineOptions(command: Command): Command {
  return command
    .option('-m, --model <dir>', 'model folder in the diffusers/Optimum ONNX layout (default: the embedded icon model)')
    .addOption(new Option('--provider <name>', 'ONNX Runtime execution provider').choices(EXECUTION_PROVIDERS).default('cpu'))
    .option('--threads <n>', 'ONNX Runtime intra-op threads (default: one per core)', integer(1, 256))
    .option('--data-dir <dir>', 'where the rewritten U-Net and inverted trajectories are cached (default: $STYLESET_DATA_DIR, else the platform data folder)');
}

/** An engine over the one model a CLI run uses, sharing the daemon's caches in the data folder. */
export async function openLocalEngine(flags: LocalEngineFlags): Promise<{ engine: PipelineEngine; model: ModelInfo }> {
  const embedded = flags.model === undefined;
  const dir = resolve(flags.model ?? defaultModelDir());
  const id = embedded ? EMBEDDED_MODEL_ID : basename(dir);
  const engine = new PipelineEngine({
    models: [{ id, dir, embedded }],
    defaultModelId: id,
    runtime: { provider: flags.provider, threads: flags.threads },
    dataDir: resolveDirs({ dataDir: flags.dataDir }).dataDir,
  });
  const [model] = await engine.listModels();
  return { engine, model };
}

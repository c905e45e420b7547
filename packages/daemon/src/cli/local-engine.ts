import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import type { ModelInfo } from '@styleset/protocol';
import { resolveDirs } from '../config/paths';
import { InputError } from '../errors';
import { PipelineEngine } from '../engine/pipeline-engine';
import { defaultModelDir, EMBEDDED_MODEL_ID } from '../model/default-model';
import { findInstalledModel, installedModelsDir, listInstalledModels } from '../model-store';
import { addRuntimeOptions, runtimeFromFlags, type RuntimeFlags } from './runtime-flags';

export interface LocalEngineFlags extends RuntimeFlags {
  model?: string;
  dataDir?: string;
}

/** The options of commands that run the pipeline in-process rather than through a daemon. */
export function addLocalEngineOptions(command: Command): Command {
  return addRuntimeOptions(
    command.option('-m, --model <id|dir>', 'an installed model (`styleset models`), or a model folder in the diffusers/Optimum ONNX layout (default: the embedded icon model)'),
  ).option('--data-dir <dir>', 'where installed models are, and derived models (the rewritten U-Net, float32 copies) and inverted trajectories are cached (default: $STYLESET_DATA_DIR, else the platform data folder)');
}

/** An engine over the one model a CLI run uses, sharing the daemon's caches in the data folder. */
export async function openLocalEngine(flags: LocalEngineFlags): Promise<{ engine: PipelineEngine; model: ModelInfo; dataDir: string }> {
  const { dataDir } = resolveDirs({ dataDir: flags.dataDir });
  const { id, dir, embedded } = await chooseModel(flags.model, dataDir);
  const engine = new PipelineEngine({
    models: [{ id, dir, embedded }],
    defaultModelId: id,
    runtime: runtimeFromFlags(flags),
    dataDir,
  });
  const [model] = await engine.listModels();
  return { engine, model, dataDir };
}

/**
 * `--model` names an installed model by its id, or a folder. An id is a plain name (no `/`), so
 * `./name` always means a folder; a plain name that is no installed model is taken as a folder,
 * as before there were installed models, and a missing one is reported with the installed ids.
 */
export async function chooseModel(value: string | undefined, dataDir: string): Promise<{ id: string; dir: string; embedded: boolean }> {
  if (value === undefined) return { id: EMBEDDED_MODEL_ID, dir: resolve(defaultModelDir()), embedded: true };
  if (!/[\\/]/.test(value)) {
    const installed = await findInstalledModel(dataDir, value);
    if (installed) return { id: installed.id, dir: installed.dir, embedded: false };
    // The embedded model's id, as styles and set records name it.
    if (value === EMBEDDED_MODEL_ID && !existsSync(value)) return chooseModel(undefined, dataDir);
    if (!existsSync(value)) {
      const ids = (await listInstalledModels(dataDir)).map((m) => m.id);
      throw new InputError(
        `--model ${value}: no installed model of that id in ${installedModelsDir(dataDir)} (installed: ${ids.length > 0 ? ids.join(', ') : 'none; `styleset pull` installs one'}), and no folder of that name`,
      );
    }
  }
  const dir = resolve(value);
  return { id: basename(dir), dir, embedded: false };
}

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors';
import { defaultModelDir, EMBEDDED_MODEL_ID } from '../model/default-model';
import { listInstalledModels } from '../model-store';
import type { RuntimeOptions } from '../model/runtime';
import type { Engine } from './engine';
import type { EngineModel } from './model-catalog';
import { WorkerEngine } from './worker-engine';

/** What the pipeline-backed engine is built from. */
export interface EngineSetup {
  /** Model id -> folder, from config.json and --model: the only folders outside the data folder it may read. */
  models: Record<string, string>;
  /** The daemon's data folder, where an engine may keep what it must find again (inversion trajectories). */
  dataDir: string;
  runtime: RuntimeOptions;
}

/**
 * The engine `serve` runs: the pipeline in its own process (see WorkerEngine), over the embedded
 * model (when it is installed), every configured folder, and the models installed in the data
 * folder (`styleset pull`; also those pulled while it runs). The default is the embedded model,
 * else the first configured one, else the first installed one.
 */
export async function createServeEngine(setup: EngineSetup): Promise<Engine> {
  const models: EngineModel[] = [];
  const embedded = defaultModelDir();
  if (existsSync(join(embedded, 'model_index.json')) && !(EMBEDDED_MODEL_ID in setup.models)) {
    models.push({ id: EMBEDDED_MODEL_ID, dir: embedded, embedded: true });
  }
  for (const [id, dir] of Object.entries(setup.models)) models.push({ id, dir });
  const defaultModelId = models[0]?.id ?? (await listInstalledModels(setup.dataDir))[0]?.id;
  if (defaultModelId === undefined) {
    throw new InputError(
      `no model to serve: the embedded model is not installed (${embedded}), none is configured and none is installed in ${setup.dataDir}; add --model id=dir, or \`styleset pull\` one`,
    );
  }
  return new WorkerEngine({
    models,
    defaultModelId,
    runtime: setup.runtime,
    dataDir: setup.dataDir,
    offerInstalledModels: true,
  });
}

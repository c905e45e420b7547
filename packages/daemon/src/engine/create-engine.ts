import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineSetup } from '../cli/commands/serve';
import { InputError } from '../errors';
import { defaultModelDir } from '../cli/default-model';
import { PipelineEngine, type EngineModel } from './pipeline-engine';

/** The id the embedded icon model is offered under. */
export const EMBEDDED_MODEL_ID = 'default';

/**
 * The engine `serve` runs: the embedded model (when it is installed) plus every configured
 * folder. The first configured model is the default when there is no embedded one.
 */
export async function createPipelineEngine(setup: EngineSetup): Promise<PipelineEngine> {
  const models: EngineModel[] = [];
  const embedded = defaultModelDir();
  if (existsSync(join(embedded, 'model_index.json')) && !(EMBEDDED_MODEL_ID in setup.models)) {
    models.push({ id: EMBEDDED_MODEL_ID, dir: embedded, embedded: true });
  }
  for (const [id, dir] of Object.entries(setup.models)) models.push({ id, dir });
  if (models.length === 0) {
    throw new InputError(`no model to serve: the embedded model is not installed (${embedded}) and none is configured; add --model id=dir`);
  }
  return new PipelineEngine({
    models,
    defaultModelId: models[0].id,
    runtime: setup.runtime,
    dataDir: setup.dataDir,
  });
}

import { resolve } from 'node:path';
import type { ModelInfo } from '@styleset/protocol';
import { InputError, StylesetError } from '../errors';
import { readModelLayout, type ModelLayout } from '../model/layout';

export interface EngineModel {
  id: string;
  dir: string;
  /** The embedded icon model is listed as kind `default`. */
  embedded?: boolean;
}

/**
 * The models an engine offers, described from their folders' configs alone: cheap enough to
 * answer from the daemon's own thread while another process runs a job.
 */
export class ModelCatalog {
  readonly defaultModelId: string;
  private readonly models = new Map<string, EngineModel>();
  private readonly layouts = new Map<string, Promise<ModelLayout>>();

  constructor(models: readonly EngineModel[], defaultModelId: string) {
    for (const m of models) this.models.set(m.id, { ...m, dir: resolve(m.dir) });
    if (!this.models.has(defaultModelId)) {
      throw new InputError(`default model "${defaultModelId}" is not among the configured models (${this.ids().join(', ')})`);
    }
    this.defaultModelId = defaultModelId;
  }

  ids(): string[] {
    return [...this.models.keys()];
  }

  model(id: string): EngineModel {
    const model = this.models.get(id);
    if (!model) throw new StylesetError('model_not_found', `no model "${id}"; configured: ${this.ids().join(', ')}`);
    return model;
  }

  /** Every model, with `loaded` from the caller (who holds the sessions). */
  async describe(isLoaded: (id: string) => boolean): Promise<ModelInfo[]> {
    const infos: ModelInfo[] = [];
    for (const m of this.models.values()) {
      const layout = await this.layout(m);
      infos.push({
        id: m.id,
        name: m.embedded ? 'Styleset icons (embedded)' : m.id,
        kind: m.embedded ? 'default' : layout.family,
        width: layout.nativeWidth,
        height: layout.nativeHeight,
        defaults: { scheduler: layout.defaults.sampler, steps: layout.defaults.steps, guidance: layout.defaults.guidance },
        loaded: isLoaded(m.id),
        path: m.dir,
      });
    }
    return infos;
  }

  private layout(model: EngineModel): Promise<ModelLayout> {
    let layout = this.layouts.get(model.id);
    if (!layout) {
      layout = readModelLayout(model.dir);
      this.layouts.set(model.id, layout);
      layout.catch(() => this.layouts.delete(model.id));
    }
    return layout;
  }
}

import { resolve } from 'node:path';
import type { ModelInfo } from '@styleset/protocol';
import { InputError, StylesetError } from '../errors';
import { modelDefaults, readModelLayout, type ModelLayout } from '../model/layout';
import { findInstalledModel, listInstalledModels, type InstalledModel } from '../model-store';

export interface EngineModel {
  id: string;
  dir: string;
  /** The embedded icon model is listed as kind `default`. */
  embedded?: boolean;
  /**
   * Installed models: which download this is (commit and install time). An id pulled again
   * names new files, so whatever was derived from the old ones is derived again.
   */
  version?: string;
  /** For people: where an installed model came from. */
  name?: string;
}

/**
 * The models an engine offers, described from their folders' configs alone: cheap enough to
 * answer from the daemon's own thread while another process runs a job. Besides the configured
 * folders, the models installed in the data folder (`styleset pull`) are read again on every
 * listing and lookup, so that a daemon offers a model pulled after it started, without a restart
 * or a config edit, and stops offering one removed. A configured id wins over an installed one.
 */
export class ModelCatalog {
  readonly defaultModelId: string;
  private readonly models = new Map<string, EngineModel>();
  private readonly layouts = new Map<string, Promise<ModelLayout>>();

  /** `installedIn`: the data folder whose installed models are offered too. */
  constructor(models: readonly EngineModel[], defaultModelId: string, private readonly installedIn?: string) {
    for (const m of models) this.models.set(m.id, { ...m, dir: resolve(m.dir) });
    // An installed default is looked up when a job needs it; it cannot be checked synchronously.
    if (!this.models.has(defaultModelId) && installedIn === undefined) {
      throw new InputError(`default model "${defaultModelId}" is not among the configured models (${[...this.models.keys()].join(', ')})`);
    }
    this.defaultModelId = defaultModelId;
  }

  /** Configured models, then installed ones. */
  async all(): Promise<EngineModel[]> {
    const installed = this.installedIn === undefined ? [] : await listInstalledModels(this.installedIn);
    return [...this.models.values(), ...installed.filter((m) => !this.models.has(m.id)).map(engineModel)];
  }

  async model(id: string): Promise<EngineModel> {
    const configured = this.models.get(id);
    if (configured) return configured;
    const installed = this.installedIn === undefined ? undefined : await findInstalledModel(this.installedIn, id);
    if (installed) return engineModel(installed);
    const known = (await this.all()).map((m) => m.id);
    throw new StylesetError('model_not_found', `no model "${id}"; available: ${known.join(', ')}${this.installedIn === undefined ? '' : ' (`styleset pull` installs more)'}`);
  }

  /** Every model, with `loaded` from the caller (who holds the sessions). */
  async describe(isLoaded: (id: string) => boolean): Promise<ModelInfo[]> {
    const infos: ModelInfo[] = [];
    for (const m of await this.all()) {
      // An installed model removed since the folder was read is simply not listed.
      const layout = m.version === undefined ? await this.layout(m) : await this.layout(m).catch(() => undefined);
      if (layout === undefined) continue;
      infos.push({
        id: m.id,
        name: m.embedded ? 'Styleset icons (embedded)' : (m.name ?? m.id),
        kind: m.embedded ? 'default' : layout.family,
        width: layout.nativeWidth,
        height: layout.nativeHeight,
        defaults: modelDefaults(layout),
        loaded: isLoaded(m.id),
        path: m.dir,
      });
    }
    return infos;
  }

  private layout(model: EngineModel): Promise<ModelLayout> {
    const key = modelKey(model);
    let layout = this.layouts.get(key);
    if (!layout) {
      layout = readModelLayout(model.dir);
      this.layouts.set(key, layout);
      layout.catch(() => this.layouts.delete(key));
    }
    return layout;
  }
}

/** Identifies a model's files: the same id pulled again is another model. */
export function modelKey(model: EngineModel): string {
  return `${model.id}\0${model.dir}\0${model.version ?? ''}`;
}

function engineModel(installed: InstalledModel): EngineModel {
  const { source, installedAt } = installed.record;
  const from = `${source.repo}${source.subfolder === undefined ? '' : `/${source.subfolder}`}`;
  return { id: installed.id, dir: installed.dir, version: `${source.commit}@${installedAt}`, name: `${installed.id} (${from})`.slice(0, 256) };
}

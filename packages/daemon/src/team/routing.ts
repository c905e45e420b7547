import type { ModelInfo } from '@styleset/protocol';

/** What a worker announces about itself in Redis, refreshed every few seconds while it lives. */
export interface WorkerAnnouncement {
  id: string;
  /** What it can run (its models; `loaded` says which hold sessions now). */
  models: ModelInfo[];
  defaultModel: string;
  /** Whether it runs a job now. */
  busy: boolean;
  /** Epoch ms of the announcement. */
  at: number;
}

/** An announcement older than this is a worker gone without saying so (killed, cut off). */
export const WORKER_STALE_MS = 15_000;

/** How often a job may be passed on to a worker that has its model loaded before any worker with the model takes it. */
export const MAX_PREFERENCE_PASSES = 2;

export type Route = 'run' | 'pass' | 'refuse';

/**
 * Job routing on the one shared queue: what the worker that took a job does with it. It runs jobs
 * for models it has loaded; one whose model it does not have goes back (another worker offers it);
 * one whose model it has but not loaded goes back while an idle worker has that model loaded (at
 * most MAX_PREFERENCE_PASSES times, so a job never waits on a preference); a model no live worker
 * offers is refused.
 */
export function routeJob(model: string, self: WorkerAnnouncement, others: readonly WorkerAnnouncement[], passes: number, now: number): Route {
  const live = others.filter((w) => w.id !== self.id && now - w.at <= WORKER_STALE_MS);
  const mine = self.models.find((m) => m.id === model);
  if (mine === undefined) return live.some((w) => w.models.some((m) => m.id === model)) ? 'pass' : 'refuse';
  if (mine.loaded) return 'run';
  if (passes >= MAX_PREFERENCE_PASSES) return 'run';
  return live.some((w) => !w.busy && w.models.some((m) => m.id === model && m.loaded)) ? 'pass' : 'run';
}

/**
 * The models a front door offers: every live worker's, once each (loaded when any worker has it
 * loaded), in the order the workers announced them.
 */
export function offeredModels(workers: readonly WorkerAnnouncement[], now: number): ModelInfo[] {
  const byId = new Map<string, ModelInfo>();
  for (const worker of workers.filter((w) => now - w.at <= WORKER_STALE_MS).sort((a, b) => a.id.localeCompare(b.id))) {
    for (const model of worker.models) {
      const known = byId.get(model.id);
      byId.set(model.id, known === undefined ? model : { ...known, loaded: known.loaded || model.loaded });
    }
  }
  return [...byId.values()];
}

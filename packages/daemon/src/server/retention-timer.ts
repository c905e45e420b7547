import type { DaemonEvent } from './events';
import type { JobStore } from './job-store';
import { pruneDataFolder } from './retention';

export interface RetentionTimerOptions {
  dataDir: string;
  store: JobStore;
  /** See config.json `keepJobsDays`; 0 keeps jobs forever (obsolete caches still go). */
  keepJobsDays: number;
  intervalMs: number;
  now(): number;
  onEvent(event: DaemonEvent): void;
}

/**
 * The daemon's retention: once at start and then every `intervalMs`, one run at a time, in the
 * background (a large data folder never delays serving). What a run freed is reported as a
 * `pruned` event; a run that fails is a warning, and the next one tries again.
 */
export function startRetention(options: RetentionTimerOptions): { stop(): Promise<void> } {
  const { dataDir, store, keepJobsDays, onEvent } = options;
  let running: Promise<void> | undefined;
  let stopped = false;
  const run = () => {
    if (running !== undefined || stopped) return;
    running = pruneDataFolder({ dataDir, store, olderThanDays: keepJobsDays, now: options.now(), warn: (message) => onEvent({ type: 'warning', message }) })
      .then(
        (report) => {
          if (report.jobs.count + report.trajectories.count + report.caches.folders.length === 0) return;
          const { olderThanDays, jobs, trajectories, caches, bytes } = report;
          onEvent({ type: 'pruned', olderThanDays, jobs: jobs.count, jobIds: jobs.ids, trajectories: trajectories.count, caches: caches.folders, bytes });
        },
        (error: Error) => onEvent({ type: 'warning', message: `pruning the data folder ${dataDir} failed: ${error.message}` }),
      )
      .finally(() => {
        running = undefined;
      });
  };
  run();
  const timer = setInterval(run, options.intervalMs);
  // Housekeeping never keeps the process alive on its own.
  timer.unref();
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

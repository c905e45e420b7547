import type { Phase } from '@styleset/protocol';
import type { EngineProgress } from '../engine/engine';

/** How often a job's progress goes out at most, unless a step must not be dropped. */
export const PROGRESS_INTERVAL_MS = 100;

/**
 * Thins a job's progress to what a person can see: a small model steps every few milliseconds,
 * and a frame per step to every follower cost the daemon ~1.5% of a set's time (measured in
 * `npm run bench`). A phase's first and last report and every preview always pass, so a client
 * still sees each phase begin and end.
 */
export class ProgressGate {
  private phase?: Phase;
  private lastPassed = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly intervalMs = PROGRESS_INTERVAL_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  admit({ phase, step, total, preview }: EngineProgress): boolean {
    const time = this.now();
    const pass = phase !== this.phase || step >= total || preview !== undefined || time - this.lastPassed >= this.intervalMs;
    this.phase = phase;
    if (pass) this.lastPassed = time;
    return pass;
  }
}

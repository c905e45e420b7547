import type { Phase } from '@styleset/protocol';

/** Wall time per phase, from the progress events a job emits in order. */
export class PhaseTimer {
  private readonly totals: Partial<Record<Phase, number>> = {};
  private current?: Phase;
  private since = performance.now();

  enter(phase: Phase): void {
    if (phase === this.current) return;
    this.close();
    this.current = phase;
  }

  finish(): Partial<Record<Phase, number>> {
    this.close();
    this.current = undefined;
    return Object.fromEntries(Object.entries(this.totals).map(([k, v]) => [k, Math.round(v)]));
  }

  private close(): void {
    const now = performance.now();
    if (this.current) this.totals[this.current] = (this.totals[this.current] ?? 0) + (now - this.since);
    this.since = now;
  }
}

import type { Phase } from '@styleset/protocol';

/**
 * Wall time per phase, from the progress events a job emits in order. A phase's time runs from
 * its first event to the next phase's first event, so every phase announces itself (step 0)
 * before its work: a phase that first reported after its first step would leave that step on the
 * phase before it (a 1024x1024 one-step job once showed 165 s of "encoding" and 1 ms of denoising).
 */
export class PhaseTimer {
  private readonly totals: Partial<Record<Phase, number>> = {};
  private current?: Phase;
  private since: number;

  constructor(private readonly now: () => number = () => performance.now()) {
    this.since = now();
  }

  enter(phase: Phase): void {
    if (phase === this.current) return;
    this.close();
    this.current = phase;
  }

  /** Work that is no phase of the protocol's (vectorising) follows: the current phase ends here. */
  leave(): void {
    this.close();
    this.current = undefined;
  }

  finish(): Partial<Record<Phase, number>> {
    this.close();
    this.current = undefined;
    return Object.fromEntries(Object.entries(this.totals).map(([k, v]) => [k, Math.round(v)]));
  }

  private close(): void {
    const now = this.now();
    if (this.current) this.totals[this.current] = (this.totals[this.current] ?? 0) + (now - this.since);
    this.since = now;
  }
}

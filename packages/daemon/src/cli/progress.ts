import { SingleBar } from 'cli-progress';
import type { ProgressEvent } from '../pipeline/generate';

/**
 * One progress bar per phase on stderr, so stdout stays clean for `--json`. Silent when stderr
 * is not a terminal (scripts, CI) or when asked.
 */
export class TerminalProgress {
  private bar?: SingleBar;
  private phase?: string;

  constructor(private readonly enabled = process.stderr.isTTY === true) {}

  update(event: ProgressEvent): void {
    if (!this.enabled) return;
    if (event.phase !== this.phase) {
      this.stop();
      this.phase = event.phase;
      this.bar = new SingleBar({
        stream: process.stderr,
        format: `${event.phase.padEnd(10)} [{bar}] {value}/{total} | {eta_formatted} left`,
        hideCursor: true,
        clearOnComplete: false,
      });
      this.bar.start(event.total, event.step);
    } else {
      this.bar?.setTotal(event.total);
      this.bar?.update(event.step);
    }
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
    this.phase = undefined;
  }
}

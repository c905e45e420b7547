import { MultiBar, type SingleBar } from 'cli-progress';
import { formatBytes } from '../storage';

/**
 * The bar of a download on stderr: bytes done of all, speed and time left over this run's bytes
 * (a resumed download's earlier bytes are not counted as speed), and the file being fetched.
 * Lines said meanwhile go above it. Off when stderr is not a terminal or when asked.
 */
export class PullProgress {
  private multi?: MultiBar;
  private bar?: SingleBar;
  private startedAt = 0;
  private startBytes = 0;
  private total = 0;
  private current = '';

  constructor(readonly enabled: boolean) {}

  start(total: number, done: number): void {
    if (!this.enabled || total === 0) return;
    this.total = total;
    this.startBytes = done;
    this.startedAt = performance.now();
    this.multi = new MultiBar({
      stream: process.stderr,
      format: '[{bar}] {percentage}% | {done} of {size} | {speed} | {timeLeft} left | {file}',
      hideCursor: true,
      clearOnComplete: false,
      barsize: 30,
    });
    this.bar = this.multi.create(total, done, this.payload(done));
  }

  file(path: string): void {
    this.current = path;
  }

  update(done: number): void {
    this.bar?.update(done, this.payload(done));
  }

  log(line: string): void {
    if (this.multi) this.multi.log(`${line}\n`);
    else process.stdout.write(`${line}\n`);
  }

  stop(): void {
    this.multi?.stop();
    this.multi = undefined;
    this.bar = undefined;
  }

  private payload(done: number): Record<string, string> {
    const seconds = (performance.now() - this.startedAt) / 1000;
    const rate = seconds > 0.5 ? (done - this.startBytes) / seconds : 0;
    const eta = rate > 0 ? formatDuration((this.total - done) / rate) : '?';
    return { done: formatBytes(done), size: formatBytes(this.total), speed: rate > 0 ? `${formatBytes(rate)}/s` : '-', timeLeft: eta, file: this.current };
  }
}

function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(Math.ceil(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

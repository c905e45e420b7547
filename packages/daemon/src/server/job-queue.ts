import { RequestError } from './request-error';

export interface QueueLimits {
  /** Queued and running jobs one owner (a pairing token) may have. */
  perClient: number;
  /** Queued and running jobs in all. */
  total: number;
}

/**
 * First in, first out, in front of the one pipeline. It only orders and counts; running, storing
 * and telling clients is the job service's.
 */
export class JobQueue<T> {
  private readonly waiting: T[] = [];
  private current?: T;
  private wake?: () => void;
  private closed = false;

  constructor(
    private readonly limits: QueueLimits,
    private readonly ownerOf: (item: T) => string,
  ) {}

  /** Refuses with `queue_full` when the client or the whole queue is at its limit. */
  checkRoom(owner: string): void {
    const all = this.items();
    if (all.length >= this.limits.total) {
      throw new RequestError('queue_full', `the daemon already has ${all.length} jobs queued or running, its limit; try again when one finishes`);
    }
    const own = all.filter((item) => this.ownerOf(item) === owner).length;
    if (own >= this.limits.perClient) {
      throw new RequestError(
        'queue_full',
        `this client already has ${own} jobs queued or running, the limit per client (every connection with its pairing token counts, connected or not); try again when one finishes`,
      );
    }
  }

  /** Adds at the back; returns how many jobs are ahead of it, the running one included. */
  add(item: T): number {
    this.waiting.push(item);
    this.wake?.();
    return this.waiting.length - 1 + (this.current === undefined ? 0 : 1);
  }

  /** Takes a waiting item out; false when it is not waiting (it runs, or is gone). */
  remove(item: T): boolean {
    const index = this.waiting.indexOf(item);
    if (index < 0) return false;
    this.waiting.splice(index, 1);
    return true;
  }

  /** Waiting items with the number of jobs ahead of each. */
  positions(): [T, number][] {
    const ahead = this.current === undefined ? 0 : 1;
    return this.waiting.map((item, index) => [item, index + ahead]);
  }

  /**
   * The next item once the current one is finished (call `finish`), or undefined once closed.
   * One consumer only: the pipeline runs one job at a time.
   */
  async next(): Promise<T | undefined> {
    while (!this.closed && this.waiting.length === 0) {
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
    if (this.closed) return undefined;
    this.current = this.waiting.shift();
    return this.current;
  }

  finish(): void {
    this.current = undefined;
  }

  /** Stops `next` and hands back what was still waiting. */
  close(): T[] {
    this.closed = true;
    this.wake?.();
    return this.waiting.splice(0);
  }

  private items(): T[] {
    return this.current === undefined ? this.waiting : [this.current, ...this.waiting];
  }
}

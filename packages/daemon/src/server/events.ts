import type { JobKind, JobState, ProtocolError } from '@styleset/protocol';

/** What the daemon reports about itself, for `styleset serve` to log (as text or JSON lines). */
export type DaemonEvent =
  | {
      type: 'job';
      jobId: string;
      kind: JobKind;
      state: JobState;
      completed: number;
      count: number;
      clientId: string;
      error?: ProtocolError;
    }
  | { type: 'connected'; clientId: string; remoteAddress?: string }
  | { type: 'disconnected'; clientId: string }
  | { type: 'refused'; reason: string; remoteAddress?: string }
  | { type: 'warning'; message: string }
  /** The retention deleted finished jobs older than `olderThanDays`, unused trajectories or obsolete caches. */
  | { type: 'pruned'; olderThanDays: number; jobs: number; jobIds: string[]; trajectories: number; caches: string[]; bytes: number };

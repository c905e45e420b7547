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
  /** `code` and `reason`: the daemon's when it closed the connection, else the client's. */
  | { type: 'disconnected'; clientId: string; code: number; reason: string }
  | { type: 'refused'; reason: string; remoteAddress?: string }
  /**
   * Closed for leaving too much unread: `bufferedBytes` waited and a `frameBytes` frame would have
   * gone over `limit` (maxBufferedBytes); it never held more than `peakBufferedBytes`.
   */
  | { type: 'slow_client'; clientId: string; bufferedBytes: number; frameBytes: number; peakBufferedBytes: number; limit: number }
  | { type: 'warning'; message: string }
  /** The retention deleted finished jobs older than `olderThanDays`, unused trajectories or obsolete caches. */
  | { type: 'pruned'; olderThanDays: number; jobs: number; jobIds: string[]; trajectories: number; caches: string[]; bytes: number };

import { PROTOCOL_VERSION, type DaemonMessageOf, type JobState, type ProtocolError } from '@styleset/protocol';
import type { JobRecord } from './job-store';

type WithoutId<M> = M extends unknown ? Omit<M, 'id'> : never;

/** A message about a job, before the id of the request it answers is filled in per client. */
export type JobEvent = WithoutId<DaemonMessageOf<'status' | 'progress' | 'result' | 'done' | 'job_error'>>;

/** `position` only while queued: jobs ahead of it. */
export function statusEvent(record: JobRecord, position?: number): WithoutId<DaemonMessageOf<'status'>> {
  return {
    v: PROTOCOL_VERSION,
    type: 'status',
    jobId: record.id,
    kind: record.kind,
    state: record.state,
    position: record.state === 'queued' ? position : undefined,
    completed: record.results.length,
    count: record.count,
    error: record.error,
  };
}

export function resultEvent(record: JobRecord, index: number, byteLength: number): WithoutId<DaemonMessageOf<'result'>> {
  const result = record.results.find((r) => r.index === index);
  if (result === undefined) throw new Error(`job ${record.id} has no result ${index}`);
  const { prompt, seed, width, height } = result;
  return {
    v: PROTOCOL_VERSION,
    type: 'result',
    jobId: record.id,
    index,
    prompt,
    seed,
    width,
    height,
    attachment: { byteLength, mime: 'image/png' },
  };
}

/** The last event of a job: `done`, or `job_error` saying why it ended unfinished. */
export function endEvent(record: JobRecord): WithoutId<DaemonMessageOf<'done' | 'job_error'>> {
  const { id: jobId, error, timings } = record;
  if (record.state !== 'done' || error !== undefined) {
    return { v: PROTOCOL_VERSION, type: 'job_error', jobId, ...(error ?? { code: 'internal', message: 'the job ended without a result' }) };
  }
  const started = timings.startedAt ?? timings.createdAt;
  return {
    v: PROTOCOL_VERSION,
    type: 'done',
    jobId,
    count: record.results.length,
    timings: {
      queuedMs: started - timings.createdAt,
      runMs: (timings.finishedAt ?? started) - started,
      phases: timings.phases ?? {},
    },
  };
}

/** How a job that ended with this error is recorded. */
export function endState(error: ProtocolError): JobState {
  if (error.code === 'cancelled' || error.code === 'interrupted') return error.code;
  return 'error';
}

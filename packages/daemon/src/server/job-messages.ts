import { PROTOCOL_VERSION, RESULT_MIME, VECTOR_DEFAULTS, type DaemonMessageOf, type JobState, type ProtocolError } from '@styleset/protocol';
import type { JobRecord, StoredResult } from './job-store';

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
    completed: completedImages(record),
    count: record.count,
    error: record.error,
    ...(record.vector !== undefined && { vector: record.vector.summary }),
  };
}

/** Images with a stored result: a `both` job's image counts once, from its PNG on. */
export function completedImages(record: JobRecord): number {
  return new Set(record.results.map((r) => r.index)).size;
}

/**
 * Whether the job set a vector option to other than its default: its results then say their
 * `format`. Records from before vector output have none, and are PNG jobs.
 */
export function asksVector(record: JobRecord): boolean {
  const o = record.options;
  return (o.format ?? VECTOR_DEFAULTS.format) !== VECTOR_DEFAULTS.format
    || (o.background ?? VECTOR_DEFAULTS.background) !== VECTOR_DEFAULTS.background
    || (o.palette ?? VECTOR_DEFAULTS.palette) !== VECTOR_DEFAULTS.palette;
}

export function resultEvent(record: JobRecord, result: StoredResult, byteLength: number): WithoutId<DaemonMessageOf<'result'>> {
  const { index, prompt, seed, width, height, warning } = result;
  const format = result.format ?? 'png';
  return {
    v: PROTOCOL_VERSION,
    type: 'result',
    jobId: record.id,
    index,
    prompt,
    seed,
    width,
    height,
    ...(asksVector(record) && { format }),
    ...(warning !== undefined && { warning }),
    attachment: { byteLength, mime: RESULT_MIME[format] },
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
    count: completedImages(record),
    timings: {
      queuedMs: started - timings.createdAt,
      runMs: (timings.finishedAt ?? started) - started,
      phases: timings.phases ?? {},
    },
    ...(record.vector !== undefined && { vector: record.vector.summary }),
  };
}

/** How a job that ended with this error is recorded. */
export function endState(error: ProtocolError): JobState {
  if (error.code === 'cancelled' || error.code === 'interrupted') return error.code;
  return 'error';
}

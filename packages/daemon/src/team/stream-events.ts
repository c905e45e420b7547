import type { JobEvent } from '../server/job-messages';

/** A job's event as it crosses the events stream, from the worker running it to every front door. */
export interface StreamedEvent {
  jobId: string;
  event: JobEvent;
  /** A preview's PNG. Results carry none: they are stored before they are announced, and front doors read them from the store. */
  bytes?: Uint8Array;
}

/** The events stream keeps about this many entries; a front door further behind has lost them. */
export const EVENTS_MAX_LENGTH = 20_000;

/** The stream entry's fields (XADD's field-value list). */
export function encodeStreamEvent(event: JobEvent, bytes?: Uint8Array): Array<string | Buffer> {
  const fields: Array<string | Buffer> = ['job', event.jobId, 'event', JSON.stringify(event)];
  if (bytes !== undefined && event.type !== 'result') fields.push('bytes', Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return fields;
}

const EVENT_TYPES = new Set<string>(['status', 'progress', 'result', 'done', 'job_error']);

/** Reads an entry back; undefined for one that is not a job event (written by something else), so a reader skips it. */
export function decodeStreamEvent(fields: Buffer[]): StreamedEvent | undefined {
  const map = new Map<string, Buffer>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i].toString(), fields[i + 1]);
  const jobId = map.get('job')?.toString();
  const text = map.get('event')?.toString();
  if (jobId === undefined || text === undefined) return undefined;
  let event: JobEvent;
  try {
    event = JSON.parse(text) as JobEvent;
  } catch {
    return undefined;
  }
  if (typeof event !== 'object' || event === null || event.jobId !== jobId || !EVENT_TYPES.has(event.type)) return undefined;
  const bytes = map.get('bytes');
  return { jobId, event, ...(bytes !== undefined && { bytes: new Uint8Array(bytes) }) };
}

import type { EngineJob } from '../engine/engine';

/** A BullMQ job's data: JSON, so the reference image travels as base64. The record is in the store, under `jobId`. */
export interface QueuedJob {
  jobId: string;
  model: string;
  input: Omit<EngineJob, 'referenceImage' | 'initLatents'> & { referenceImage?: string };
  /** Times a worker handed it back to be run by one with its model loaded (see routeJob). */
  passes: number;
}

export function toQueuedJob(jobId: string, input: EngineJob): QueuedJob {
  const { referenceImage, initLatents: _unused, ...rest } = input;
  return {
    jobId,
    model: input.options.model,
    input: { ...rest, ...(referenceImage !== undefined && { referenceImage: Buffer.from(referenceImage).toString('base64') }) },
    passes: 0,
  };
}

export function fromQueuedJob(data: QueuedJob): EngineJob {
  const { referenceImage, ...rest } = data.input;
  return { ...rest, ...(referenceImage !== undefined && { referenceImage: new Uint8Array(Buffer.from(referenceImage, 'base64')) }) };
}

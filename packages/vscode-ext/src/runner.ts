import type { DaemonMessage, Phase, SetOptions } from '@styleset/protocol';

/** A daemon message with the bytes its frame carried (a result's PNG). */
export interface JobEvent {
  message: DaemonMessage;
  bytes?: Uint8Array;
}

/** A submitted job: its events, up to and including `done` or `job_error`. */
export interface SubmittedJob extends AsyncIterable<JobEvent> {
  readonly jobId: string;
  /** Jobs ahead of it when it was accepted. */
  readonly position?: number;
}

/** What the runner needs from a daemon connection; the typed `StylesetClient` is one. */
export interface DaemonConnection {
  submit(request: { kind: 'set'; prompts: string[]; options?: SetOptions }): Promise<SubmittedJob>;
  cancel(jobId: string): Promise<unknown>;
}

export interface SetImage {
  prompt: string;
  /** Where its PNG goes. */
  target: string;
}

export interface RunOptions {
  connection: DaemonConnection;
  /** One set, in order: the first is the style reference. */
  images: readonly SetImage[];
  options?: SetOptions;
  write(target: string, png: Uint8Array): Promise<void>;
  /** Aborting cancels the job on the daemon; images written so far stay. */
  signal?: AbortSignal;
  /** The daemon queued the job, behind `ahead` others. */
  onAccepted?(ahead: number): void;
  onProgress?(progress: { phase: Phase; step: number; total: number; etaMs?: number }): void;
  onWritten?(target: string, index: number): void;
}

export interface RunResult {
  status: 'done' | 'cancelled' | 'failed';
  written: string[];
  /** Why it failed: an error from the connection or the daemon (with its `code`), or a WriteError. */
  error?: unknown;
}

/** An image that arrived but could not be written to its file. */
export class WriteError extends Error {
  readonly code = 'write_failed';

  constructor(
    readonly target: string,
    cause: unknown,
  ) {
    super(`cannot write ${target}: ${(cause as Error).message ?? String(cause)}`, { cause });
    this.name = 'WriteError';
  }
}

/**
 * Submits the images as one set, so that they share a style, and writes each PNG to its target as
 * it arrives rather than at the end: a long set that fails halfway keeps what it made.
 */
export async function runSet(run: RunOptions): Promise<RunResult> {
  const { connection, images, signal } = run;
  const written: string[] = [];
  if (signal?.aborted) return { status: 'cancelled', written };
  let job: SubmittedJob;
  try {
    job = await connection.submit({ kind: 'set', prompts: images.map((image) => image.prompt), ...(run.options && { options: run.options }) });
  } catch (error) {
    return { status: 'failed', written, error };
  }
  // The job's own last event (`job_error` code `cancelled`) reports the outcome, so a failed
  // cancel request (the job had just ended) changes nothing.
  run.onAccepted?.(job.position ?? 0);
  const cancel = () => void connection.cancel(job.jobId).catch(() => {});
  if (signal?.aborted) cancel();
  signal?.addEventListener('abort', cancel, { once: true });
  try {
    for await (const { message, bytes } of job) {
      switch (message.type) {
        case 'progress':
          run.onProgress?.({ phase: message.phase, step: message.step, total: message.total, ...(message.etaMs !== undefined && { etaMs: message.etaMs }) });
          break;
        case 'result': {
          const { target } = images[message.index];
          try {
            await run.write(target, bytes!);
          } catch (error) {
            cancel();
            return { status: 'failed', written, error: new WriteError(target, error) };
          }
          written.push(target);
          run.onWritten?.(target, message.index);
          break;
        }
        case 'done':
          return { status: 'done', written };
        case 'job_error':
          return message.code === 'cancelled' ? { status: 'cancelled', written } : { status: 'failed', written, error: message };
      }
    }
    return { status: 'failed', written, error: new Error('the daemon ended the job without saying how') };
  } catch (error) {
    return { status: 'failed', written, error };
  } finally {
    signal?.removeEventListener('abort', cancel);
  }
}

import { REFERENCE_IMAGE_DEFAULTS, type DaemonMessage, type ImageMimeType, type Phase, type ReferenceOptions, type ResultFormat, type SetOptions } from '@styleset/protocol';

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

export type JobRequest =
  | { kind: 'set'; prompts: string[]; style?: string; options?: SetOptions }
  | { kind: 'reference'; prompts: string[]; referencePrompt: string; options?: ReferenceOptions };

/** A picture that travels with a request: a reference job's style image. */
export interface Attachment {
  bytes: Uint8Array;
  mime: ImageMimeType;
}

/** What the runner needs from a daemon connection; the typed `StylesetClient` is one. */
export interface DaemonConnection {
  submit(request: JobRequest, image?: Attachment): Promise<SubmittedJob>;
  cancel(jobId: string): Promise<unknown>;
}

export interface SetImage {
  prompt: string;
  /** Where its image goes. */
  target: string;
  /** The result it is written from: the PNG (also for JPEG and WebP files), or the SVG traced from it. */
  result?: ResultFormat;
}

/**
 * Where a set takes its style from. `image`: a picture (the workspace's style image), inverted by
 * the daemon, which keeps the inversion for the next set in the same style. `saved`: a style the
 * daemon keeps by name (its style library), whose reference leads every set. `first`: the set's
 * first image, as StyleAligned does with prompts alone.
 */
export type SetStyle = { kind: 'image'; image: Attachment; prompt: string } | { kind: 'saved'; name: string } | { kind: 'first' };

export interface RunOptions {
  connection: DaemonConnection;
  /** One set, in order: the first is the style reference unless `style` brings one. */
  images: readonly SetImage[];
  options?: SetOptions;
  style?: SetStyle;
  /** Writes one image from its result's bytes; false when it was not written (the user kept a file that appeared meanwhile). */
  write(image: SetImage, bytes: Uint8Array): Promise<boolean>;
  /** Aborting cancels the job on the daemon; images written so far stay. */
  signal?: AbortSignal;
  /** The daemon queued the job, behind `ahead` others. */
  onAccepted?(ahead: number): void;
  onProgress?(progress: { phase: Phase; step: number; total: number; etaMs?: number }): void;
  onResult?(index: number, bytes: Uint8Array, format: ResultFormat): void;
  onWritten?(target: string, index: number): void;
  /** The daemon's word on an image that is not quite what was asked (its background kept, no SVG). */
  onWarning?(target: string, warning: string): void;
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
 * Submits the images as one job, so that they share a style, and writes each image to its target
 * as it arrives rather than at the end: a long set that fails halfway keeps what it made.
 */
export async function runSet(run: RunOptions): Promise<RunResult> {
  const { connection, images, signal, style } = run;
  const written: string[] = [];
  if (signal?.aborted) return { status: 'cancelled', written };
  const prompts = images.map((image) => image.prompt);
  // SVGs with their PNGs: a later size may need the first PNG as its style, and JPEG or WebP files
  // in the same set are made from PNGs.
  const vector = images.some((image) => image.result === 'svg');
  const options: SetOptions | undefined = vector ? { ...run.options, format: 'both' } : run.options;
  let job: SubmittedJob;
  try {
    job =
      style?.kind === 'image'
        ? await connection.submit({ kind: 'reference', prompts, referencePrompt: style.prompt, options: referenceOptions(options ?? {}) }, style.image)
        : await connection.submit({ kind: 'set', prompts, ...(style?.kind === 'saved' && { style: style.name }), ...(options && { options }) });
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
          const image = images[message.index];
          const format = message.format ?? 'png';
          run.onResult?.(message.index, bytes!, format);
          if (message.warning !== undefined) run.onWarning?.(image.target, message.warning);
          // A `both` job sends every image as PNG and as SVG: each file takes the one it is written from.
          if (format !== (image.result ?? 'png')) break;
          let wrote: boolean;
          try {
            wrote = await run.write(image, bytes!);
          } catch (error) {
            cancel();
            return { status: 'failed', written, error: new WriteError(image.target, error) };
          }
          if (!wrote) break;
          written.push(image.target);
          run.onWritten?.(image.target, message.index);
          break;
        }
        case 'done':
          // The SVGs that could not be made: their files stay missing, and the user hears why.
          for (const { index, warning } of message.vector?.failed ?? []) {
            if (images[index].result === 'svg') run.onWarning?.(images[index].target, warning);
          }
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

/**
 * A reference job's options from the settings. The inverted image joins the trajectory a tenth
 * of the way in (the reference implementation's 5 of 50 steps); with fewer steps set than that
 * offset, the same fraction of the steps set, so that every step count works.
 */
export function referenceOptions(options: SetOptions): ReferenceOptions {
  if (options.steps === undefined || options.steps > REFERENCE_IMAGE_DEFAULTS.inversionOffset) return options;
  const fraction = REFERENCE_IMAGE_DEFAULTS.inversionOffset / REFERENCE_IMAGE_DEFAULTS.steps;
  return { ...options, inversionOffset: Math.floor(options.steps * fraction) };
}

/** Images generated at one size: one job each, since a job has one size. */
export interface SizedSet {
  width: number;
  height: number;
  images: SetImage[];
}

export interface RunSetsOptions extends Omit<RunOptions, 'images' | 'style' | 'onResult'> {
  sets: readonly SizedSet[];
  style: SetStyle;
  /** The next job starts, `index` of `sets.length`. */
  onSetStart?(index: number, set: SizedSet): void;
}

/**
 * Generates images of several sizes in one style: one job per size, in order. With a style image
 * every job is a reference job on it, with a saved style a set in it. With the first image as the
 * style, the first job is a plain set and the later ones take the style of its first image, sent
 * back as their reference image.
 * Cancelling or a failure stops at once; what was written stays.
 */
export async function runSets(run: RunSetsOptions): Promise<RunResult> {
  const { sets, style, onSetStart, ...common } = run;
  const written: string[] = [];
  let style0: SetStyle = style;
  for (const [index, set] of sets.entries()) {
    onSetStart?.(index, set);
    let first: Uint8Array | undefined;
    const outcome = await runSet({
      ...common,
      images: set.images,
      options: { ...run.options, width: set.width, height: set.height },
      style: style0,
      onResult: (at, bytes, format) => void (at === 0 && format === 'png' && (first = bytes)),
    });
    written.push(...outcome.written);
    if (outcome.status !== 'done') return { ...outcome, written };
    if (style0.kind === 'first' && first !== undefined) style0 = { kind: 'image', image: { bytes: first, mime: 'image/png' }, prompt: set.images[0].prompt };
  }
  return { status: 'done', written };
}

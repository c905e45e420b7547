import { LIMITS, PROTOCOL_VERSION, VECTOR_LIMITS, type Phase } from '@styleset/protocol';
import type { Engine, EngineJob, EngineOutcome, EngineProgress, EngineResult, EngineVectorSet } from '../engine/engine';
import { endEvent, endState, resultEvent, statusEvent, type JobEvent } from './job-messages';
import type { JobRecord, JobStore, StoredResult } from './job-store';
import { ProgressGate } from './progress-gate';
import { toProtocolError } from './request-error';

/** Where a run stores its record and results: the data folder's JobStore, or team mode's shared store. */
export type ResultWriter = Pick<JobStore, 'save' | 'writeResult' | 'writeResults'>;

export interface RunContext {
  engine: Engine;
  store: ResultWriter;
  /** Sends to every client following the job. */
  emit(event: JobEvent, bytes?: Uint8Array): void;
  /** The record's state changed (for the log). */
  changed(): void;
  /** Progress goes out at most this often (see ProgressGate); absent: its default. */
  progressIntervalMs?: number;
  /** What a finished job leaves to keep (a style's trajectory); a failure here is a warning, not the job's. */
  afterRun?(outcome: EngineOutcome): Promise<void>;
  warn?(message: string): void;
}

/**
 * Runs one job on the engine. Never rejects: however the job ends, its record is stored and its
 * last event (`done` or `job_error`) sent. An aborted signal's reason says why it stopped
 * (cancelled, or interrupted by a daemon shutdown), whatever the engine rejected with.
 */
export async function runJob(record: JobRecord, input: EngineJob, signal: AbortSignal, context: RunContext): Promise<void> {
  const { engine, store, emit } = context;
  const clock = new PhaseClock();
  const gate = new ProgressGate(context.progressIntervalMs);
  let stored = Promise.resolve();
  /**
   * Stored (the files, then the record that lists them), then announced, after whatever was
   * queued before: results keep the order they came in, and a client told about one can always
   * fetch it again. Queued, so that the engine decodes the next image while this one is written.
   */
  const storeAndAnnounce = (write: () => Promise<Array<{ entry: StoredResult; bytes: Uint8Array }>>) => {
    stored = stored.then(async () => {
      for (const { entry, bytes } of await write()) emit(resultEvent(record, entry, bytes.length), bytes);
    });
    // A failed write is reported where `stored` is awaited, not as an unhandled rejection.
    stored.catch(() => undefined);
  };
  // Asked for SVG alone: the PNGs wait here, sent only for images that get no SVG.
  const pngsOnly = input.options.format === 'svg' ? new Map<number, EngineResult>() : undefined;
  try {
    signal.throwIfAborted();
    record.state = 'running';
    record.timings.startedAt = Date.now();
    await store.save(record);
    context.changed();
    emit(statusEvent(record));
    const events = {
      onProgress: (progress: EngineProgress) => {
        // The clock sees every step, the clients only those the gate lets through.
        const etaMs = clock.eta(progress);
        if (gate.admit(progress)) emitProgress(record, progress, etaMs, emit);
      },
      onResult: async (result: EngineResult) => {
        if (pngsOnly !== undefined) {
          pngsOnly.set(result.index, result);
          return;
        }
        storeAndAnnounce(async () => [{ entry: await store.writeResult(record, result), bytes: result.png }]);
      },
      onVector: async (set: EngineVectorSet) => {
        // One record write for all of them, with the palettes: a client that reads `status`
        // after any SVG was announced finds them.
        const writes = set.images.flatMap(({ index, prompt, seed, width, height, svg, warning }) => {
          const meta = { index, prompt, seed, width, height, ...(warning !== undefined && { warning }) };
          if (svg !== undefined) return [{ entry: { ...meta, format: 'svg' as const }, bytes: svg }];
          const png = pngsOnly?.get(index);
          return png === undefined ? [] : [{ entry: meta, bytes: png.png }];
        });
        storeAndAnnounce(async () => {
          const entries = await store.writeResults(record, writes, (r) => (r.vector = { summary: set.summary, ms: set.ms }));
          return entries.map((entry, i) => ({ entry, bytes: writes[i].bytes }));
        });
      },
    };
    const outcome = await engine.run(input, events, signal);
    await stored;
    await context.afterRun?.(outcome).catch((error: Error) => context.warn?.(`job ${record.id}: ${error.message}`));
    record.state = 'done';
    record.trajectoryKey = outcome.trajectoryKey;
    // The batch size it ran with: a style saved from it keeps it, to lay new images out the same.
    if (outcome.batchSize !== undefined) record.options = { ...record.options, batchSize: outcome.batchSize };
    record.timings.phases = outcome.timings;
  } catch (error) {
    // Images finished before the failure are kept and announced all the same; asked for SVG
    // alone, their PNGs are (not for a job that was stopped: nobody wants more of it).
    await stored.catch(() => undefined);
    if (pngsOnly !== undefined && !signal.aborted) {
      const done = new Set(record.results.map((r) => r.index));
      const warning = `no SVG: the job failed before its SVGs were made (${toProtocolError(error).message})`.slice(0, VECTOR_LIMITS.maxWarningLength);
      for (const png of [...pngsOnly.values()].filter((p) => !done.has(p.index)).sort((a, b) => a.index - b.index)) {
        storeAndAnnounce(async () => [{ entry: await store.writeResult(record, { ...png, warning }), bytes: png.png }]);
      }
      await stored.catch(() => undefined);
    }
    record.error = toProtocolError(signal.aborted ? signal.reason : error);
    record.state = endState(record.error);
  }
  record.timings.finishedAt = Date.now();
  try {
    await store.save(record);
  } catch (error) {
    // The images stored so far stay listed in the record last written; on a restart the job
    // shows as interrupted with them. A job that already failed keeps its first error: the cause.
    if (record.state !== 'error') {
      const { code, message } = toProtocolError(error);
      record.error = { code, message: `the job's record could not be written: ${message}` };
    }
    record.state = 'error';
  }
  context.changed();
  emit(endEvent(record));
}

function emitProgress(
  record: JobRecord,
  { phase, step, total, preview }: EngineProgress,
  etaMs: number | undefined,
  emit: RunContext['emit'],
): void {
  const event = { v: PROTOCOL_VERSION, type: 'progress', jobId: record.id, phase, step, total, etaMs } as const;
  // A preview over the limit would be refused by the client's decoder; the progress still counts.
  if (preview === undefined || preview.length > LIMITS.maxPreviewBytes) {
    emit(event);
  } else {
    emit({ ...event, attachment: { byteLength: preview.length, mime: 'image/png' } }, preview);
  }
}

/** Time left in the current phase, from the time its finished steps took so far. */
class PhaseClock {
  private phase?: Phase;
  private phaseStart = performance.now();
  private lastEvent = performance.now();

  eta({ phase, step, total }: EngineProgress): number | undefined {
    const now = performance.now();
    if (phase !== this.phase) {
      // The phase began when the previous one last reported, not when it first reports itself.
      this.phase = phase;
      this.phaseStart = this.lastEvent;
    }
    this.lastEvent = now;
    if (step <= 0) return undefined;
    return Math.round(((now - this.phaseStart) / step) * Math.max(0, total - step));
  }
}

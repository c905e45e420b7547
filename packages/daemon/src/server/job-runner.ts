import { LIMITS, PROTOCOL_VERSION, type Phase } from '@styleset/protocol';
import type { Engine, EngineJob, EngineProgress, EngineResult } from '../engine/engine';
import { endEvent, endState, resultEvent, statusEvent, type JobEvent } from './job-messages';
import type { JobRecord, JobStore } from './job-store';
import { ProgressGate } from './progress-gate';
import { toProtocolError } from './request-error';

export interface RunContext {
  engine: Engine;
  store: JobStore;
  /** Sends to every client following the job. */
  emit(event: JobEvent, bytes?: Uint8Array): void;
  /** The record's state changed (for the log). */
  changed(): void;
  /** Progress goes out at most this often (see ProgressGate); absent: its default. */
  progressIntervalMs?: number;
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
        // Queued, so that the engine decodes the next image while this one is written. Each is
        // stored before it is announced (a client told about an image can always fetch it
        // again), in the order they came.
        stored = stored.then(async () => {
          await store.writeResult(record, result);
          emit(resultEvent(record, result.index, result.png.length), result.png);
        });
        // A failed write is reported where `stored` is awaited, not as an unhandled rejection.
        stored.catch(() => undefined);
      },
    };
    const outcome = await engine.run(input, events, signal);
    await stored;
    record.state = 'done';
    record.trajectoryKey = outcome.trajectoryKey;
    record.timings.phases = outcome.timings;
  } catch (error) {
    // Images finished before the failure are kept and announced all the same.
    await stored.catch(() => undefined);
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

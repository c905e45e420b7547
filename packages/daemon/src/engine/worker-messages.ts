import { CancelledError, InputError, ModelError, StylesetError } from '../errors';
import type { EngineJob, EngineOutcome, EngineProgress, EngineResult, EngineVectorSet } from './engine';
import type { PipelineEngineOptions } from './pipeline-engine';

/**
 * The messages between a WorkerEngine and its engine process (Node's IPC with the structured-clone
 * serializer, so typed arrays travel as they are). Private to the two: clients never see them.
 */
export type ToWorker =
  | { type: 'init'; options: PipelineEngineOptions }
  | { type: 'run'; id: number; job: EngineJob }
  | { type: 'cancel'; id: number }
  /** The daemon took a result or the SVGs (its `onResult`/`onVector` resolved, or failed with `error`): the job may go on. */
  | { type: 'taken'; id: number; error?: WireError }
  | { type: 'close' };

export type FromWorker =
  | { type: 'progress'; id: number; progress: EngineProgress }
  | { type: 'result'; id: number; result: EngineResult }
  | { type: 'vector'; id: number; set: EngineVectorSet }
  | { type: 'done'; id: number; outcome: EngineOutcome; loaded: string[] }
  | { type: 'failed'; id: number; error: WireError; loaded: string[] }
  /** The models whose sessions are in memory, after one finished loading. */
  | { type: 'loaded'; loaded: string[] };

/** An error as it crosses the process boundary: the clone of an Error keeps neither class nor code. */
export interface WireError {
  name: string;
  message: string;
  /** A StylesetError's stable code. */
  code?: string;
}

export function toWire(error: unknown): WireError {
  if (error instanceof StylesetError) return { name: error.name, message: error.message, code: error.code };
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: String(error) };
}

/** The error again, as the class the daemon tells apart (`CancelledError`, a `StylesetError`'s code). */
export function fromWire(wire: WireError): Error {
  switch (wire.name) {
    case 'CancelledError':
      return new CancelledError(wire.message);
    case 'InputError':
      return new InputError(wire.message);
    case 'ModelError':
      return new ModelError(wire.message);
  }
  const error = wire.code === undefined ? new Error(wire.message) : new StylesetError(wire.code, wire.message);
  error.name = wire.name;
  return error;
}

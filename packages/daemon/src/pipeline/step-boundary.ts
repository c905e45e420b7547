import { setImmediate as nextTurn } from 'node:timers/promises';
import { CancelledError } from '../errors';

/**
 * Between two model steps: gives the event loop a turn to take in what arrived during the last
 * step (a cancel among it), then stops if the job was cancelled. ONNX Runtime's `run` blocks the
 * thread it runs on, and it starts the work on the event loop's next turn: without this turn the
 * loop would check the signal, hand step k + 1 over, and only then read a cancel that arrived
 * during step k, one step late.
 */
export async function stepBoundary(signal: AbortSignal | undefined): Promise<void> {
  await nextTurn();
  if (signal?.aborted) throw new CancelledError();
}

import { parentPort } from 'node:worker_threads';
import { loadVectorLibraries, runImageTask, type ImageResult, type ImageTask } from './trace-image';

/**
 * A trace lane's thread (bundled as dist/vector-worker.js). It is sent a batch of image tasks
 * and a counter it shares with the other lanes; it claims the next unclaimed task from the
 * counter until none is left, and answers each with its result or its error's message, then
 * says it is done.
 */
export interface LaneRequest {
  batch: number;
  tasks: ImageTask[];
  /** Int32 [next task]: claimed with Atomics.add by every lane. */
  next: SharedArrayBuffer;
  /** Int32 [stop]: set by the caller to stop claiming (a cancel). */
  stop: SharedArrayBuffer;
}
export type LaneReply =
  | { ready: true }
  | { batch: number; index: number; result: ImageResult }
  | { batch: number; index: number; error: string }
  | { batch: number; done: true };

const port = parentPort;
if (port === null) throw new Error('lane-worker.ts runs as a worker thread (see lanes.ts)');
// Loaded before the first task, as the caller's thread does while a set is generated.
await loadVectorLibraries();
port.postMessage({ ready: true } satisfies LaneReply);
let queue = Promise.resolve();
port.on('message', (request: LaneRequest) => {
  queue = queue.then(() => claim(request));
});

async function claim({ batch, tasks, next, stop }: LaneRequest): Promise<void> {
  const counter = new Int32Array(next);
  const stopped = new Int32Array(stop);
  for (let index = Atomics.add(counter, 0, 1); index < tasks.length && Atomics.load(stopped, 0) === 0; index = Atomics.add(counter, 0, 1)) {
    try {
      port!.postMessage({ batch, index, result: await runImageTask(tasks[index]) } satisfies LaneReply);
    } catch (error) {
      port!.postMessage({ batch, index, error: error instanceof Error ? error.message : String(error) } satisfies LaneReply);
    }
  }
  port!.postMessage({ batch, done: true } satisfies LaneReply);
}

import { existsSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { LaneReply, LaneRequest } from './lane-worker';
import { runImageTask, type ImageResult, type ImageTask } from './trace-image';

/**
 * Trace lanes: a set's images traced side by side on worker threads, one per core (at most
 * `MAX_WORKERS`), while the caller's thread only waits for them. The SVGs start only once the
 * whole set is decoded (they share its palette), when the model no longer needs the cores. The
 * caller's thread traced too until 2026-12-05, but there each image took two to four times as
 * long as on a worker (its heap holds the model's tensors, and its code runs a set's vector work
 * once per job), and while it traced, a daemon running the engine on its own thread answered
 * no one.
 *
 * Every lane runs the same code on the same data, so which lane traced an image never changes
 * its SVG. Lanes are an optimisation only: without the worker's bundle (a source checkout not
 * built since src/ changed), with `lanes: 1`, or with a worker that fails, the caller's thread
 * does it.
 */

const MAX_WORKERS = 4;

interface BatchHandlers {
  result(index: number, result: ImageResult | Error): void;
  /** The lane claims no more of the batch's tasks (it finished, or it was lost). */
  ended(): void;
}

class Lane {
  private readonly batches = new Map<number, BatchHandlers>();
  lost = false;
  /** It loaded its libraries: a lane lost before it did could not start, nor would another. */
  started = false;
  /** Its libraries are loaded (or it was lost). */
  readonly ready: Promise<void>;
  private isReady: () => void = () => undefined;
  /** Who needs its answer now (a batch, a wait for `ready`): while any does, it holds the process. */
  private holds = 0;

  constructor(private readonly worker: Worker) {
    this.ready = new Promise((resolve) => (this.isReady = resolve));
    // Idle lanes never keep a process alive; a lane with work does, until it is done. (Unref'd
    // before it is online, a worker still holds the process: once more when it is.)
    worker.unref();
    worker.once('online', () => this.holds === 0 && worker.unref());
    worker.on('message', (reply: LaneReply) => {
      if ('ready' in reply) {
        this.started = true;
        return this.isReady();
      }
      const handlers = this.batches.get(reply.batch);
      if (handlers === undefined) return;
      if ('done' in reply) this.end(reply.batch);
      else handlers.result(reply.index, 'error' in reply ? new Error(reply.error) : reply.result);
    });
    const lose = () => {
      this.lost = true;
      this.isReady();
      for (const batch of [...this.batches.keys()]) this.end(batch);
    };
    worker.on('error', lose);
    worker.on('exit', lose);
  }

  /** `ready`, holding the process until then (someone waits for it). */
  async whenReady(): Promise<void> {
    this.hold();
    await this.ready;
    this.release();
  }

  run(request: LaneRequest, handlers: BatchHandlers): void {
    if (this.lost) return handlers.ended();
    this.hold();
    this.batches.set(request.batch, handlers);
    this.worker.postMessage(request);
  }

  private end(batch: number): void {
    const handlers = this.batches.get(batch);
    if (handlers === undefined) return;
    this.batches.delete(batch);
    this.release();
    handlers.ended();
  }

  private hold(): void {
    if (this.holds++ === 0) this.worker.ref();
  }

  private release(): void {
    if (--this.holds === 0) this.worker.unref();
  }
}

let lanes: Lane[] = [];
/** A lane that could not start (its bundle or a native library did not load): none is tried again. */
let cannotStart = false;

/**
 * The worker's bundle: next to this code in dist/, or, run from source, the package's dist/
 * when it was built after every file of src/ last changed (an older build would trace with
 * older code: the bundle holds vector/ and what it imports from elsewhere in src/).
 */
function workerScript(): string | undefined {
  const here = fileURLToPath(import.meta.url);
  const bundled = join(dirname(here), 'vector-worker.js');
  if (existsSync(bundled)) return bundled;
  if (!here.endsWith('.ts')) return undefined;
  const built = join(dirname(here), '..', '..', 'dist', 'vector-worker.js');
  if (!existsSync(built)) return undefined;
  const builtAt = statSync(built).mtimeMs;
  const src = join(dirname(here), '..');
  return readdirSync(src, { recursive: true, encoding: 'utf8' }).every((name) => statSync(join(src, name)).mtimeMs <= builtAt) ? built : undefined;
}

/** Starts the worker lanes (once per process; again for any that was lost), so that their libraries load ahead of need. */
export function startLanes(wanted = Math.min(MAX_WORKERS, availableParallelism())): Lane[] {
  cannotStart ||= lanes.some((lane) => lane.lost && !lane.started);
  lanes = lanes.filter((lane) => !lane.lost);
  if (lanes.length >= wanted || cannotStart) return lanes.slice(0, wanted);
  const script = workerScript();
  if (script === undefined) return [];
  // The bundle is plain JavaScript: none of this process's flags (a TypeScript loader, an
  // --input-type) apply to it.
  while (lanes.length < wanted) lanes.push(new Lane(new Worker(script, { execArgv: [] })));
  return lanes.slice(0, wanted);
}

/** Once the lanes started so far have loaded their libraries: how many there are. */
export async function lanesReady(): Promise<number> {
  await Promise.all(lanes.map((lane) => lane.whenReady()));
  return lanes.filter((lane) => !lane.lost).length;
}

export interface LaneOptions {
  /** Threads to trace on: 1 is the caller's own; more, or absent (one per core, see `MAX_WORKERS`), are workers. */
  lanes?: number;
  /** Awaited before each image: gives the event loop a turn, and stops the work by throwing. */
  checkpoint(): Promise<void>;
}

let batches = 0;
/** How often the caller checks for a cancel while the lanes work. */
const WAIT_TURN_MS = 20;

/**
 * Runs the tasks in lanes, results in the tasks' order; an Error given as a task is passed
 * through. Every lane claims the next task from one shared counter, so a lane that got long
 * images takes fewer; this thread runs only what no lane could (none started, or one was lost).
 * A task that throws becomes its Error; a checkpoint that throws stops every lane before its
 * next task and rejects with that error.
 */
export async function runInLanes<T extends ImageTask>(tasks: ReadonlyArray<T | Error>, options: LaneOptions): Promise<{ results: Array<ImageResult<T> | Error>; lanes: number }> {
  const out = [...tasks] as Array<ImageResult<T> | Error>;
  const todo = tasks.flatMap((t, i) => (t instanceof Error ? [] : [i]));
  const list = todo.map((i) => tasks[i] as T);
  const request: LaneRequest = { batch: batches++, tasks: list, next: new SharedArrayBuffer(4), stop: new SharedArrayBuffer(4) };
  const next = new Int32Array(request.next);
  const stop = new Int32Array(request.stop);
  const answered = new Uint8Array(list.length);
  const busy = new Set<string>();
  const answer = (k: number, result: ImageResult<T> | Error, lane: string) => {
    out[todo[k]] = result;
    answered[k] = 1;
    busy.add(lane);
  };
  const here = async (k: number) => {
    await options.checkpoint();
    answer(k, await runImageTask(list[k]).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))), 'caller');
  };

  // No more lanes than tasks: each lane is sent the whole batch (a copy of its images).
  const workers = options.lanes === 1 || list.length === 0 ? [] : startLanes(options.lanes).slice(0, list.length);
  let running = workers.length;
  let allEnded: () => void = () => undefined;
  const ended = new Promise<void>((resolve) => (allEnded = resolve));
  if (running === 0) allEnded();
  // A lane answers task k with the result of the same op as the task it was sent.
  workers.forEach((lane, w) => lane.run(request, { result: (k, result) => answer(k, result as ImageResult<T> | Error, `worker ${w}`), ended: () => --running === 0 && allEnded() }));
  try {
    if (workers.length === 0) for (let k = Atomics.add(next, 0, 1); k < list.length; k = Atomics.add(next, 0, 1)) await here(k);
    let waiting = true;
    void ended.then(() => (waiting = false));
    while (waiting) {
      await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, WAIT_TURN_MS))]);
      await options.checkpoint();
    }
    // What a lost lane claimed and never answered.
    for (let k = 0; k < list.length; k++) if (!answered[k]) await here(k);
    // A cancel that came while the last images traced stops the set here, not after its next step.
    await options.checkpoint();
  } catch (error) {
    Atomics.store(stop, 0, 1);
    throw error;
  }
  return { results: out, lanes: Math.max(1, busy.size) };
}

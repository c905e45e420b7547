import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ModelInfo } from '@styleset/protocol';
import { StylesetError } from '../errors';
import type { Engine, EngineEvents, EngineJob, EngineOutcome } from './engine';
import { ModelCatalog } from './model-catalog';
import type { PipelineEngineOptions } from './pipeline-engine';
import { fromWire, toWire, type FromWorker, type ToWorker } from './worker-messages';

/** How long a closing engine process may take to release its models before it is killed. */
const CLOSE_TIMEOUT_MS = 10_000;

interface PendingRun {
  events: EngineEvents;
  resolve(outcome: EngineOutcome): void;
  reject(error: Error): void;
}

interface Worker {
  process: ChildProcess;
  runs: Map<number, PendingRun>;
  exited: Promise<void>;
}

/**
 * The Engine the daemon serves with: a PipelineEngine in a child process (worker-main.ts), so
 * that while a U-Net step blocks its thread for seconds the daemon still answers every message,
 * and a cancel takes effect at the next step. A child process rather than a worker thread: a
 * native abort or the kernel's out-of-memory kill then ends the engine, not the daemon; the job
 * that was running fails with a message saying so, and the next job starts a new process. Models
 * are listed from their folders here, so listing them never waits for a step.
 */
export class WorkerEngine implements Engine {
  readonly defaultModelId: string;
  private readonly catalog: ModelCatalog;
  private worker?: Worker;
  private loaded = new Set<string>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: PipelineEngineOptions) {
    this.catalog = new ModelCatalog(options.models, options.defaultModelId, options.offerInstalledModels ? options.dataDir : undefined);
    this.defaultModelId = this.catalog.defaultModelId;
  }

  listModels(): Promise<ModelInfo[]> {
    return this.catalog.describe((id) => this.loaded.has(id));
  }

  /** The engine process's id while one runs (for diagnostics and tests). */
  get workerPid(): number | undefined {
    return this.worker?.process.pid;
  }

  async run(job: EngineJob, events: EngineEvents, signal: AbortSignal): Promise<EngineOutcome> {
    if (this.closed) throw new StylesetError('internal', 'the engine is closed');
    await this.catalog.model(job.options.model);
    const worker = this.start();
    const id = this.nextId++;
    const cancel = () => send(worker, { type: 'cancel', id });
    signal.addEventListener('abort', cancel, { once: true });
    try {
      return await new Promise<EngineOutcome>((resolve, reject) => {
        worker.runs.set(id, { events, resolve, reject });
        send(worker, { type: 'run', id, job });
      });
    } finally {
      signal.removeEventListener('abort', cancel);
      worker.runs.delete(id);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    if (worker === undefined) return;
    send(worker, { type: 'close' });
    const timer = setTimeout(() => worker.process.kill('SIGKILL'), CLOSE_TIMEOUT_MS);
    await worker.exited;
    clearTimeout(timer);
  }

  private start(): Worker {
    if (this.worker !== undefined) return this.worker;
    const entry = workerEntry();
    const child = fork(entry.path, [], {
      execArgv: entry.execArgv,
      serialization: 'advanced',
      // Its stdout goes to the daemon's stderr: `serve --json` owns stdout.
      stdio: ['ignore', 2, 2, 'ipc'],
    });
    const worker: Worker = {
      process: child,
      runs: new Map(),
      exited: new Promise((resolve) => {
        child.once('exit', () => resolve());
        // A process that never started never exits.
        child.once('error', () => child.pid === undefined && resolve());
      }),
    };
    this.worker = worker;
    child.on('message', (message: FromWorker) => this.receive(worker, message));
    child.once('exit', (code, signal) => this.lost(worker, exitError(code, signal, this.closed)));
    // Only when it cannot be started (or signalled): 'exit' may never follow.
    child.on('error', (error) => this.lost(worker, new StylesetError('internal', `the engine process failed: ${error.message}`)));
    send(worker, { type: 'init', options: this.options });
    return worker;
  }

  private receive(worker: Worker, message: FromWorker): void {
    if (message.type === 'loaded') {
      this.loaded = new Set(message.loaded);
      return;
    }
    const run = worker.runs.get(message.id);
    if (run === undefined) return;
    switch (message.type) {
      case 'progress':
        run.events.onProgress(message.progress);
        return;
      case 'result':
      case 'vector': {
        // The engine process waits for this answer before it goes on, as PipelineEngine awaits its events.
        const taken = message.type === 'result' ? run.events.onResult(message.result) : (run.events.onVector?.(message.set) ?? Promise.resolve());
        taken.then(
          () => send(worker, { type: 'taken', id: message.id }),
          (error: unknown) => send(worker, { type: 'taken', id: message.id, error: toWire(error) }),
        );
        return;
      }
      case 'done':
        this.loaded = new Set(message.loaded);
        run.resolve(message.outcome);
        return;
      case 'failed':
        this.loaded = new Set(message.loaded);
        run.reject(fromWire(message.error));
        return;
    }
  }

  /** The process is gone: its jobs fail, its models are no longer loaded, the next job starts another. */
  private lost(worker: Worker, error: Error): void {
    if (this.worker === worker) {
      this.worker = undefined;
      this.loaded.clear();
    }
    for (const run of worker.runs.values()) run.reject(error);
    worker.runs.clear();
  }
}

function send(worker: Worker, message: ToWorker): void {
  // A process that has gone is reported by its 'exit'; what was meant for it no longer matters.
  if (worker.process.connected) worker.process.send(message);
}

function exitError(code: number | null, signal: NodeJS.Signals | null, closing: boolean): StylesetError {
  if (closing) return new StylesetError('interrupted', 'the engine was closed while the job ran');
  const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
  const memory = signal === 'SIGKILL' ? ' (the system may have run out of memory)' : '';
  return new StylesetError('internal', `the engine process ${how}${memory} while it ran this job; the daemon starts a new one for the next job`);
}

/**
 * The engine process's entry: the bundle next to the bundled CLI (dist/engine-worker.js), else
 * the TypeScript source (tests, the benchmark), which needs tsx's loader, a devDependency.
 */
function workerEntry(): { path: string; execArgv: string[] } {
  const bundled = fileURLToPath(new URL('./engine-worker.js', import.meta.url));
  if (existsSync(bundled)) return { path: bundled, execArgv: [] };
  const source = fileURLToPath(new URL('./worker-main.ts', import.meta.url));
  if (!existsSync(source)) throw new StylesetError('internal', `the engine process's bundle ${bundled} is missing: run \`npm run build\``);
  const tsx = createRequire(import.meta.url).resolve('tsx');
  return { path: source, execArgv: ['--import', pathToFileURL(tsx).href] };
}

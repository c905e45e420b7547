/**
 * The engine process: hosts a PipelineEngine, so that ONNX Runtime's blocking `run` calls happen
 * off the daemon's event loop. Started by WorkerEngine with an IPC channel; bundled as
 * dist/engine-worker.js next to the CLI.
 */
import type { EngineResult, EngineVectorSet } from './engine';
import { PipelineEngine } from './pipeline-engine';
import { fromWire, toWire, type FromWorker, type ToWorker } from './worker-messages';

interface Running {
  controller: AbortController;
  /** The daemon's answer to the result it was last sent. */
  taken?: { resolve(): void; reject(error: Error): void };
}

const runs = new Map<number, Running>();
let engine: PipelineEngine | undefined;

function send(message: FromWorker): void {
  // A parent that is gone ends this process (below); nothing is left to tell.
  if (process.connected) process.send!(message);
}

/** Sends a result (or the SVGs) and waits until the daemon has taken it, as PipelineEngine awaits its consumer. */
function handOver(running: Running, message: Extract<FromWorker, { type: 'result' | 'vector' }>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    running.taken = { resolve, reject };
    send(message);
  });
}

async function run(id: number, job: Extract<ToWorker, { type: 'run' }>['job']): Promise<void> {
  const running: Running = { controller: new AbortController() };
  runs.set(id, running);
  try {
    if (engine === undefined) throw new Error('the engine process got a job before its models');
    const current = engine;
    const outcome = await current.run(
      job,
      {
        onProgress: (progress) => {
          send({ type: 'progress', id, progress });
          if (progress.phase === 'loading' && progress.step === progress.total) send({ type: 'loaded', loaded: current.loadedModels() });
        },
        onResult: (result: EngineResult) => handOver(running, { type: 'result', id, result }),
        onVector: (set: EngineVectorSet) => handOver(running, { type: 'vector', id, set }),
      },
      running.controller.signal,
    );
    send({ type: 'done', id, outcome, loaded: current.loadedModels() });
  } catch (error) {
    send({ type: 'failed', id, error: toWire(error), loaded: engine?.loadedModels() ?? [] });
  } finally {
    runs.delete(id);
  }
}

process.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'init':
      engine = new PipelineEngine(message.options);
      return;
    case 'run':
      void run(message.id, message.job);
      return;
    case 'cancel':
      runs.get(message.id)?.controller.abort();
      return;
    case 'taken': {
      const running = runs.get(message.id);
      const taken = running?.taken;
      if (running) running.taken = undefined;
      if (message.error === undefined) taken?.resolve();
      else taken?.reject(fromWire(message.error));
      return;
    }
    case 'close':
      void (engine?.close() ?? Promise.resolve()).finally(() => process.disconnect());
      return;
  }
});

// The daemon decides when this process ends: a Ctrl-C reaches the whole process group, and the
// daemon must first mark the running job interrupted, then close the engine.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);
// Without its daemon (closed, or killed) it has nothing to do.
process.on('disconnect', () => process.exit(0));

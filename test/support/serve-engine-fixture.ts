// A daemon on the real pipeline in a process of its own, as `styleset serve` runs one, for tests
// that watch the order of its messages from outside: with the daemon in the test's own process a
// blocked event loop would block the test's client too.
//   node --import tsx serve-engine-fixture.ts <worker|in-thread> <data dir> <config dir> <id=dir>...
// Prints {"url", "token"} on one line once it listens; SIGTERM closes it.
import { join } from 'node:path';
import { readToken } from '../../packages/daemon/src/config/token';
import type { Engine } from '../../packages/daemon/src/engine/engine';
import { PipelineEngine, type PipelineEngineOptions } from '../../packages/daemon/src/engine/pipeline-engine';
import { WorkerEngine } from '../../packages/daemon/src/engine/worker-engine';
import { startDaemon } from '../../packages/daemon/src/server/daemon';

const [kind, dataDir, configDir, ...entries] = process.argv.slice(2);
const models = entries.map((entry) => {
  const [id, dir] = entry.split('=');
  return { id, dir };
});
const options: PipelineEngineOptions = { models, defaultModelId: models[0].id, runtime: { provider: 'cpu', threads: 1 }, dataDir };
const engine: Engine = kind === 'worker' ? new WorkerEngine(options) : new PipelineEngine(options);
// Every progress event goes out: the tests reason about each step.
const daemon = await startDaemon({ engine, dataDir, configDir, port: 0, progressIntervalMs: 0 });
process.stdout.write(`${JSON.stringify({ url: daemon.url, token: await readToken(join(configDir)) })}\n`);
process.once('SIGTERM', () => {
  void daemon
    .close()
    .then(() => engine.close())
    .then(() => process.exit(0));
});

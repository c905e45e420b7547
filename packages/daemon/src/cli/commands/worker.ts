import type { Command } from 'commander';
import { DEFAULT_KEEP_JOBS_DAYS, loadConfig } from '../../config/config-file';
import { resolveDirs } from '../../config/paths';
import type { TeamWorkerEvent } from '../../team';
import { integer } from '../arguments';
import { addRuntimeOptions, runtimeFromFlags, type RuntimeFlags } from '../runtime-flags';
import { modelEntry, nextSignal, writeJson, type EngineFactory } from './serve';

interface WorkerFlags extends RuntimeFlags {
  queue: string;
  model: Record<string, string>;
  dataDir?: string;
  configDir?: string;
  lockMs: number;
  maxStoredMb: number;
  json: boolean;
}

export function registerWorker(program: Command, createEngine: EngineFactory): void {
  const command = program
    .command('worker')
    .description("team mode: run jobs from the team's queue (any number of workers, on any number of machines; README, Team)")
    .requiredOption('--queue <url>', "the team's Redis: redis://HOST:PORT (rediss:// for TLS; user and password in the URL are never printed)")
    .option('--model <id=dir>', 'offer the model folder under this id (repeatable; adds to config "models")', modelEntry, {})
    .option('--data-dir <dir>', 'caches and inversion trajectories (default: $STYLESET_DATA_DIR, else the platform data folder)')
    .option('--config-dir <dir>', 'config.json (default: $STYLESET_CONFIG_DIR, else the platform config folder)')
    .option('--lock-ms <n>', 'a worker silent this long (killed, cut off) loses its job, which runs once more on another worker', integer(1000, 3_600_000), 30_000)
    .option('--max-stored-mb <n>', "finished jobs' results kept in Redis, in all; the oldest go first (also config keepJobsDays)", integer(1, 1_000_000), 1024);
  addRuntimeOptions(command)
    .option('--json', 'log one JSON object per line on stdout instead of text', false)
    .action(async (flags: WorkerFlags) => {
      // Loaded here: BullMQ and ioredis take most of a second, which other commands do not pay.
      const { parseQueueUrl, startTeamWorker } = await import('../../team');
      const address = parseQueueUrl(flags.queue);
      const dirs = resolveDirs({ dataDir: flags.dataDir, configDir: flags.configDir });
      const config = await loadConfig(dirs.configDir);
      const log = flags.json ? (event: TeamWorkerEvent) => writeJson(event) : logText;
      const engine = await createEngine({ models: { ...config.models, ...flags.model }, dataDir: dirs.dataDir, runtime: runtimeFromFlags(flags) });
      let worker;
      try {
        worker = await startTeamWorker({
          address,
          engine,
          lockMs: flags.lockMs,
          retention: { keepJobsDays: config.keepJobsDays ?? DEFAULT_KEEP_JOBS_DAYS, maxBytes: flags.maxStoredMb * 2 ** 20 },
          log,
        });
      } catch (error) {
        await engine.close();
        throw error;
      }
      const models = (await engine.listModels()).map((m) => m.id);
      if (flags.json) writeJson({ type: 'working', id: worker.id, queue: address.shown, models, defaultModel: engine.defaultModelId });
      else process.stdout.write(`Styleset worker ${worker.id} taking jobs from ${address.shown}\n  models  ${models.join(', ')}; default: ${engine.defaultModelId}\nCtrl-C stops it after its current job.\n`);
      const signal = await nextSignal();
      if (flags.json) writeJson({ type: 'stopping', signal });
      else process.stdout.write(`${signal}: finishing the current job, then stopping (${signal} again quits at once; the job then runs again elsewhere)\n`);
      await worker.close();
      await engine.close();
    });
}

function logText(event: TeamWorkerEvent): void {
  const time = new Date().toTimeString().slice(0, 8);
  const text =
    event.type === 'job'
      ? `job ${event.jobId} (${event.model}${event.attempt > 1 ? ', second attempt' : ''}) ${event.state}${event.error === undefined ? '' : `: ${event.error.code}: ${event.error.message}`}`
      : event.type === 'passed'
        ? `job ${event.jobId} (${event.model}) handed back: ${event.why}`
        : event.message;
  process.stdout.write(`${time} ${text}\n`);
}

/**
 * Team mode on this machine (README, "Team"): jobs per second against the number of workers, and
 * the time the queue adds to a job. Tiny model (test/support/tiny-models), loopback, a real
 * redis-server (Debian's, as the host tests use it), the built CLI (`npm run build` first):
 *
 *   npx tsx packages/daemon/bench/team.ts [--jobs 24] [--workers 1,2,3] [--latency-jobs 10]
 *
 * Prints the two tables docs/benchmarks.md shows under "Team mode". On a machine with fewer cores
 * than workers it measures the scaling shape (where it stops), not what GPU boxes would do.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { StylesetClient } from '../src/server/client';
import { startRedisServer } from '../../../test/hosts/support/redis-server';
import { pairingToken, startFrontDoor, startWorker } from '../../../test/hosts/support/team';
import { generateTinyModel } from '../../../test/support/tiny-models';

const CLI = new URL('../dist/cli.js', import.meta.url).pathname;
const { values: flags } = parseArgs({ options: { jobs: { type: 'string', default: '24' }, workers: { type: 'string', default: '1,2,3' }, 'latency-jobs': { type: 'string', default: '10' } } });
const JOBS = Number(flags.jobs);
const WORKER_COUNTS = flags.workers!.split(',').map(Number);
const LATENCY_JOBS = Number(flags['latency-jobs']);
/** One image, few steps: the job is short, so the queue's share of it shows. */
const job = (seed: number) => ({ kind: 'set' as const, prompts: ['a star'], options: { model: 'tiny', steps: 4, seed } });

const root = await mkdtemp(join(tmpdir(), 'styleset-bench-team-'));
const redis = await startRedisServer();
/** Every process it started, stopped however the run ends. */
const started: Array<{ stop(signal?: NodeJS.Signals): Promise<void> }> = [];
try {
  const model = await generateTinyModel(join(root, 'tiny'), { family: 'sd1' });
  const configDir = join(root, 'config');
  await mkdir(configDir, { recursive: true });
  // All the jobs at once, from one token.
  await writeFile(join(configDir, 'config.json'), JSON.stringify({ maxJobsPerClient: 1000, maxJobs: 1000 }));
  const door = await startFrontDoor(redis.url, configDir);
  started.push(door);
  const token = await pairingToken(configDir);

  // Throughput: JOBS submitted at once, until the last ends.
  const throughput: Array<{ workers: number; seconds: number; perSecond: number }> = [];
  for (const count of WORKER_COUNTS) {
    const workers = await Promise.all(Array.from({ length: count }, (_, i) => startWorker(redis.url, join(root, `w${count}-${i}`), { tiny: model.dir }, 30_000)));
    started.push(...workers);
    const client = await StylesetClient.connect({ url: door.url, token });
    // One job per worker first, so that every engine has loaded the model before the clock starts.
    await Promise.all(Array.from({ length: count }, (_, i) => drain(client, job(i))));
    const start = performance.now();
    await Promise.all(Array.from({ length: JOBS }, (_, i) => drain(client, job(100 + i))));
    const seconds = (performance.now() - start) / 1000;
    throughput.push({ workers: count, seconds, perSecond: JOBS / seconds });
    await client.close();
    await Promise.all(workers.map((w) => w.stop('SIGTERM')));
  }

  // Latency: the same job one at a time, through the team (one worker) and through `styleset serve`.
  const worker = await startWorker(redis.url, join(root, 'latency'), { tiny: model.dir }, 30_000);
  started.push(worker);
  const team = await sequential(door.url, token);
  await worker.stop('SIGTERM');
  const single = await startSingleDaemon(join(root, 'single'), model.dir);
  started.push(single);
  const alone = await sequential(single.url, await pairingToken(join(root, 'single', 'config')));
  await single.stop();
  await door.stop('SIGTERM');

  const base = throughput[0].perSecond;
  console.log(`Team mode, tiny model, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${JOBS} one-image 4-step jobs at once:\n`);
  console.log('| workers | wall time | jobs/s | vs 1 worker |');
  console.log('| --- | --- | --- | --- |');
  for (const t of throughput) console.log(`| ${t.workers} | ${t.seconds.toFixed(1)} s | ${t.perSecond.toFixed(2)} | ${(t.perSecond / base).toFixed(2)}x |`);
  console.log(`\nOne job at a time (${LATENCY_JOBS}, after one to warm up), submit to done at the client, median (min-max):\n`);
  console.log('| through | per job | added by the queue |');
  console.log('| --- | --- | --- |');
  console.log(`| \`styleset serve\` | ${ms(alone)} | |`);
  console.log(`| front door + 1 worker (Redis, BullMQ) | ${ms(team)} | ${(median(team) - median(alone)).toFixed(0)} ms |`);
} finally {
  await Promise.all(started.map((p) => p.stop('SIGKILL')));
  await redis.dispose();
  await rm(root, { recursive: true, force: true });
}

async function drain(client: StylesetClient, request: ReturnType<typeof job>): Promise<void> {
  for await (const event of await client.submit(request)) {
    if (event.message.type === 'job_error') throw new Error(`job failed: ${event.message.message}`);
  }
}

async function sequential(url: string, token: string): Promise<number[]> {
  const client = await StylesetClient.connect({ url, token });
  await drain(client, job(0));
  const times: number[] = [];
  for (let i = 0; i < LATENCY_JOBS; i++) {
    const start = performance.now();
    await drain(client, job(1 + i));
    times.push(performance.now() - start);
  }
  await client.close();
  return times;
}

async function startSingleDaemon(dir: string, modelDir: string): Promise<{ url: string; stop(signal?: NodeJS.Signals): Promise<void> }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--json', '--host', '127.0.0.1', '--port', '0', '--threads', '1', '--model', `tiny=${modelDir}`, '--data-dir', join(dir, 'data'), '--config-dir', join(dir, 'config')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const event = JSON.parse(line) as { type: string; url: string };
      if (event.type === 'listening') resolve(event.url);
    });
    child.once('exit', (code) => reject(new Error(`styleset serve exited (${code})`)));
  });
  return {
    url,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function ms(values: number[]): string {
  return `${median(values).toFixed(0)} ms (${Math.min(...values).toFixed(0)}-${Math.max(...values).toFixed(0)})`;
}

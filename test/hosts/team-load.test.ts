// The load test, bounded in count (and by the test's time limit), loopback only: 2 front
// doors, 3 worker processes, 6 clients x 20 jobs with cancels, and the worker running one long job
// killed with SIGKILL mid-run. Every accepted job ends exactly once (counted on the events stream itself, which every
// front door reads), every result re-fetches byte-identical from the other front door, none is
// announced twice.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { StylesetClient, type Job, type Received } from '../../packages/daemon/src/server/client';
import { TeamKeys } from '../../packages/daemon/src/team';
import { decodeStreamEvent } from '../../packages/daemon/src/team/stream-events';
import { tinyModelSet } from '../support/tiny-model-set';
import { startRedisServer, type RedisServer } from './support/redis-server';
import { pairingToken, startFrontDoor, startWorker, until, type FrontDoorProcess, type TeamProcess } from './support/team';

const CLIENTS = 6;
const JOBS_PER_CLIENT = 20;
const PROMPTS = ['a star', 'a moon'];
/** Every fifth job of a client is cancelled as soon as it is accepted. */
const cancels = (j: number) => j % 5 === 4;
/** The killed worker's job: about half a second on the tiny model, where the others take milliseconds. */
const LONG_STEPS = 200;
const LONG_PROMPTS = ['a star', 'a moon', 'a sun', 'a cloud'];

let models: Awaited<ReturnType<typeof tinyModelSet<'tiny'>>>;
let root: string;
let server: RedisServer;
let doors: FrontDoorProcess[] = [];
let workers: TeamProcess[] = [];
let clients: StylesetClient[] = [];

beforeAll(async () => {
  models = await tinyModelSet({ tiny: { family: 'sd1' } });
  root = await mkdtemp(join(tmpdir(), 'styleset-team-load-'));
  server = await startRedisServer();
  const configDir = join(root, 'config');
  await mkdir(configDir, { recursive: true });
  // The six clients pair with one token (one team's plugin installs): its limit must hold them all.
  await writeFile(join(configDir, 'config.json'), JSON.stringify({ maxJobsPerClient: 200, maxJobs: 500 }));
  doors = [await startFrontDoor(server.url, configDir), await startFrontDoor(server.url, configDir)];
  workers = await Promise.all([0, 1, 2].map((i) => startWorker(server.url, join(root, `w${i}`), { tiny: models.models.tiny.dir })));
  const token = await pairingToken(configDir);
  clients = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => StylesetClient.connect({ url: doors[i % 2].url, token })));
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await Promise.all([...doors, ...workers].map((p) => p.stop('SIGKILL')));
  await server?.dispose();
  await models?.dispose();
  await rm(root, { recursive: true, force: true });
});

it('ends every accepted job exactly once, with every result re-fetchable byte for byte, through a worker killed mid-job', { timeout: 600_000 }, async () => {
  // The worker to kill is the one running a job long enough (LONG_STEPS) that the kill surely lands
  // before it ends, and only once its client heard the job running (its record says so): a 2-step
  // job can finish between its `running` line and the signal, and a worker killed before it stored
  // `running` had not started (the retry is then rightly a first attempt).
  const submitted: Array<{ client: number; job: Job; events: Received[]; cancelled?: Promise<unknown> }> = [];
  const long = { client: 0, job: await clients[0].submit({ kind: 'set', prompts: LONG_PROMPTS, options: { model: 'tiny', steps: LONG_STEPS, seed: 7 } }), events: [] as Received[] };
  submitted.push(long);
  const killing = (async () => {
    let runner: TeamProcess | undefined;
    for await (const event of long.job) {
      long.events.push(event);
      const { message } = event;
      if (runner !== undefined || message.type !== 'status' || message.state !== 'running') continue;
      runner = await until(() => workers.find((w) => w.events().some((e) => e.type === 'job' && e.jobId === long.job.jobId && e.state === 'running')));
      await runner.stop('SIGKILL');
    }
    return runner;
  })();

  await Promise.all(
    clients.map(async (client, c) => {
      const mine = [];
      for (let j = 0; j < JOBS_PER_CLIENT; j++) {
        const job = await client.submit({ kind: 'set', prompts: PROMPTS, options: { model: 'tiny', steps: 2, seed: c * 1000 + j } });
        const entry = { client: c, job, events: [] as Received[], cancelled: cancels(j) ? client.cancel(job.jobId) : undefined };
        submitted.push(entry);
        mine.push(entry);
      }
      await Promise.all(
        mine.map(async (entry) => {
          for await (const event of entry.job) entry.events.push(event);
          await entry.cancelled;
        }),
      );
    }),
  );
  const killed = await killing;
  expect(killed).toBeDefined();
  expect(submitted).toHaveLength(CLIENTS * JOBS_PER_CLIENT + 1);

  // What went on the events stream, per job: the one source every client's events came from.
  const redis = new Redis(server.url);
  const keys = new TeamKeys();
  const ends = new Map<string, number>();
  const results = new Map<string, string[]>();
  try {
    for (const [, fields] of (await redis.xrangeBuffer(keys.events, '-', '+')) as Array<[Buffer, Buffer[]]>) {
      const streamed = decodeStreamEvent(fields);
      if (streamed === undefined) continue;
      const { jobId, event } = streamed;
      if (event.type === 'done' || event.type === 'job_error') ends.set(jobId, (ends.get(jobId) ?? 0) + 1);
      if (event.type === 'result') results.set(jobId, [...(results.get(jobId) ?? []), `${event.index}:${event.format ?? 'png'}`]);
    }
  } finally {
    redis.disconnect();
  }

  const states = new Map<string, number>();
  for (const { client, job, events } of submitted) {
    expect(ends.get(job.jobId), `ends of job ${job.jobId}`).toBe(1);
    const streamed = results.get(job.jobId) ?? [];
    expect(new Set(streamed).size, `results of job ${job.jobId} announced once each`).toBe(streamed.length);
    const last = events.at(-1)!.message;
    expect(['done', 'job_error']).toContain(last.type);
    if (last.type === 'job_error') expect(last.code).toBe('cancelled');
    // The other front door serves the same bytes the client was sent.
    const other = clients[(client + 1) % CLIENTS];
    const fetched = await other.getResults(job.jobId);
    const sent = events.filter((e) => e.message.type === 'result');
    expect(fetched.results.map((r) => r.message.index)).toEqual(sent.map((r) => (r.message as { index: number }).index));
    expect(fetched.results.map((r) => Buffer.from(r.bytes!).toString('base64'))).toEqual(sent.map((r) => Buffer.from(r.bytes!).toString('base64')));
    if (last.type === 'done') expect(sent).toHaveLength(job === long.job ? LONG_PROMPTS.length : PROMPTS.length);
    states.set(fetched.status.state, (states.get(fetched.status.state) ?? 0) + 1);
  }
  // Only cancels end a job unfinished: the killed worker's job ran again elsewhere.
  expect([...states.keys()].every((s) => s === 'done' || s === 'cancelled')).toBe(true);
  expect(states.get('cancelled') ?? 0).toBeLessThanOrEqual(CLIENTS * 4);
  const retried = workers.filter((w) => w !== killed).flatMap((w) => w.events()).filter((e) => e.type === 'job' && e.attempt === 2);
  expect(retried.filter((e) => e.jobId === long.job.jobId).map((e) => e.state)).toEqual(['running', 'done']);
  expect(long.events.at(-1)!.message.type).toBe('done');
  console.log(`team load: ${submitted.length} jobs, ${JSON.stringify(Object.fromEntries(states))}, ${retried.length / 2} retried after the SIGKILL`);
});

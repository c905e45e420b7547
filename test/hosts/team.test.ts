// Team mode end to end: real redis-server, the built CLI's front doors and workers in processes of
// their own, clients speaking the unchanged protocol (StylesetClient).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DECODE_LIMITS } from '../../packages/daemon/src/image/image8';
import { decodePng } from '../../packages/daemon/src/image/png';
import { StylesetClient, type Received } from '../../packages/daemon/src/server/client';
import { tinyModelSet } from '../support/tiny-model-set';
import { startRedisServer, type RedisServer } from './support/redis-server';
import { pairingToken, startFrontDoor, startWorker, until, type TeamProcess } from './support/team';

let models: Awaited<ReturnType<typeof tinyModelSet<'tiny'>>>;
let root: string;
const running: Array<{ stop(signal?: NodeJS.Signals): Promise<void> }> = [];
const clients: StylesetClient[] = [];

beforeAll(async () => {
  models = await tinyModelSet({ tiny: { family: 'sd1' } });
  root = await mkdtemp(join(tmpdir(), 'styleset-team-'));
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
});
afterAll(async () => {
  await models?.dispose();
  await rm(root, { recursive: true, force: true });
});

async function redis(options?: { password?: string }): Promise<RedisServer> {
  const server = await startRedisServer(options);
  running.push({ stop: () => server.dispose() });
  return server;
}

async function worker(queue: string, name: string, lockMs?: number): Promise<TeamProcess> {
  const started = await startWorker(queue, join(root, name), { tiny: models.models.tiny.dir }, lockMs);
  running.push(started);
  return started;
}

async function frontDoor(queue: string, configDir = join(root, 'config')) {
  const started = await startFrontDoor(queue, configDir);
  running.push(started);
  return started;
}

async function connect(url: string, configDir = join(root, 'config')): Promise<StylesetClient> {
  const client = await StylesetClient.connect({ url, token: await pairingToken(configDir) });
  clients.push(client);
  return client;
}

async function drain(job: AsyncIterable<Received>): Promise<Received[]> {
  const events: Received[] = [];
  for await (const event of job) events.push(event);
  return events;
}

describe('team mode', () => {
  it('runs a job submitted at a front door on a worker and streams its events and results back, stored before announced', async () => {
    const server = await redis();
    await worker(server.url, 'w1');
    const door = await frontDoor(server.url);
    const client = await connect(door.url);
    // The worker's models: the embedded one (its default) and the tiny one it was given.
    expect(client.welcome.defaultModel).toBe('default');
    expect((await client.listModels()).map((m) => m.id).sort()).toEqual(['default', 'tiny']);
    const job = await client.submit({ kind: 'set', prompts: ['a star', 'a moon', 'a house'], options: { model: 'tiny', steps: 3, seed: 7, previewEvery: 1 } });
    const events = await drain(job);
    const types = events.map((e) => e.message.type);
    expect(types[0]).toBe('status');
    expect(types.at(-1)).toBe('done');
    expect(types.filter((t) => t === 'result')).toHaveLength(3);
    expect(events.some((e) => e.message.type === 'progress' && e.bytes !== undefined)).toBe(true);
    const results = events.filter((e) => e.message.type === 'result');
    expect(results.map((r) => (r.message as { index: number }).index)).toEqual([0, 1, 2]);
    // Fetched again from the store, through the same front door: byte for byte what was streamed.
    const fetched = await client.getResults(job.jobId);
    expect(fetched.status.state).toBe('done');
    expect(fetched.results.map((r) => Buffer.from(r.bytes!).toString('base64'))).toEqual(results.map((r) => Buffer.from(r.bytes!).toString('base64')));
    for (const result of results) {
      const image = decodePng(result.bytes!, 'result', DEFAULT_DECODE_LIMITS);
      const { width, height } = result.message as { width: number; height: number };
      expect([image.width, image.height]).toEqual([width, height]);
    }
    // Saved styles are one daemon's: the front door says so rather than showing an empty library.
    await expect(client.listStyles()).rejects.toMatchObject({ code: 'invalid_input', message: expect.stringMatching(/single daemon/) });
    await expect(client.submit({ kind: 'set', style: 'brand', prompts: ['a star'], options: { model: 'tiny' } })).rejects.toMatchObject({ code: 'invalid_input', field: 'style' });
  });

  it('cancels a waiting job at once and a running one at its next step, as the daemon does', async () => {
    const server = await redis();
    await worker(server.url, 'w1');
    const door = await frontDoor(server.url);
    const client = await connect(door.url);
    // Long enough on any machine to be cancelled mid-run: the embedded model, 4 images, 200 steps.
    const long = await client.submit({ kind: 'set', prompts: ['a star', 'a moon', 'a house', 'a tree'], options: { model: 'default', steps: 200, seed: 1 } });
    const longEvents: Received[] = [];
    for await (const event of long) {
      longEvents.push(event);
      if (event.message.type === 'progress' && event.message.phase === 'denoising' && event.message.step >= 2) break;
    }
    // A team's position counts the jobs waiting ahead (the running ones are on workers).
    const waiting = await client.submit({ kind: 'set', prompts: ['a moon'], options: { model: 'tiny', steps: 2, seed: 2 } });
    const third = await client.submit({ kind: 'set', prompts: ['a house'], options: { model: 'tiny', steps: 2, seed: 3 } });
    expect([waiting.position, third.position]).toEqual([0, 1]);
    expect((await client.cancel(waiting.jobId)).state).toBe('cancelled');
    const waitingEvents = await drain(waiting);
    expect(waitingEvents.map((e) => e.message.type)).toEqual(['job_error']);
    expect(waitingEvents[0].message).toMatchObject({ code: 'cancelled' });
    // The job behind it moved up, and its followers are told.
    const moved = await third[Symbol.asyncIterator]().next();
    expect(moved.value.message).toMatchObject({ type: 'status', state: 'queued', position: 0 });
    const cancelled = await client.cancel(long.jobId);
    expect(cancelled.state).toBe('cancelled');
    const rest = await drain(long);
    expect(rest.at(-1)!.message).toMatchObject({ type: 'job_error', code: 'cancelled' });
    const steps = [...longEvents, ...rest].filter((e) => e.message.type === 'progress' && e.message.phase === 'denoising').length;
    expect(steps).toBeLessThan(200);
    // Another front door tells the same.
    const other = await frontDoor(server.url);
    const second = await connect(other.url);
    expect((await second.getStatus(long.jobId)).state).toBe('cancelled');
    expect((await second.getQueue()).jobs).toEqual([]);
  });

  it('takes a Redis URL with a password and never prints it', async () => {
    const password = 'pw-Secret-7cQ';
    const server = await redis({ password });
    expect(server.url).toContain(password);
    const w = await worker(server.url, 'w1');
    const door = await frontDoor(server.url);
    const client = await connect(door.url);
    expect((await drain(await client.submit({ kind: 'set', prompts: ['a star'], options: { model: 'tiny', steps: 2, seed: 3 } }))).at(-1)!.message.type).toBe('done');
    expect(door.ready.queue).toBe(`redis://***@127.0.0.1:${server.port}`);
    expect(w.ready.queue).toBe(`redis://***@127.0.0.1:${server.port}`);
    // Redis restarts under them: they reconnect (and say so) without the password in any line.
    await server.restart();
    expect((await drain(await client.submit({ kind: 'set', prompts: ['a moon'], options: { model: 'tiny', steps: 2, seed: 4 } }))).at(-1)!.message.type).toBe('done');
    for (const output of [w.output(), door.output()]) {
      expect(output).not.toContain(password);
      expect(output).not.toContain(encodeURIComponent(password));
    }
    // A wrong password: refused, and not printed either.
    const wrong = `redis://:not-${password}@127.0.0.1:${server.port}`;
    const refused = await startWorker(wrong, join(root, 'w-wrong'), { tiny: models.models.tiny.dir }).then(
      () => undefined,
      (error: Error) => error.message,
    );
    expect(refused).toMatch(/exited/);
    expect(refused).toMatch(/WRONGPASS|NOAUTH|invalid username-password/);
    expect(refused).not.toContain(password);
  });

  it('runs a job whose worker was killed mid-job once more on another worker: no result lost, none announced twice', async () => {
    const server = await redis();
    const workers = [await worker(server.url, 'w1'), await worker(server.url, 'w2')];
    const door = await frontDoor(server.url);
    const client = await connect(door.url);
    // Eight images: after the first result the worker still decodes and stores seven, so the kill
    // lands mid-job however fast this machine (four left a window of a few milliseconds).
    const prompts = ['a star', 'a moon', 'a house', 'a tree', 'a cloud', 'a key', 'a bell', 'a leaf'];
    const job = await client.submit({ kind: 'set', prompts, options: { model: 'tiny', steps: 30, seed: 11 } });
    const events: Received[] = [];
    let killed: TeamProcess | undefined;
    for await (const event of job) {
      events.push(event);
      if (killed === undefined && event.message.type === 'result') {
        // The worker that runs it says so in its log.
        killed = workers.find((w) => w.events().some((e) => e.type === 'job' && e.jobId === job.jobId && e.state === 'running'))!;
        await killed.stop('SIGKILL');
      }
    }
    expect(killed).toBeDefined();
    const survivor = workers.find((w) => w !== killed)!;
    // It logs the end once the job's end is sent.
    await until(() => survivor.events().some((e) => e.type === 'job' && e.jobId === job.jobId && e.state === 'done'));
    expect(survivor.events().filter((e) => e.type === 'job' && e.jobId === job.jobId).map((e) => [e.state, e.attempt])).toEqual([['running', 2], ['done', 2]]);
    expect(events.at(-1)!.message).toMatchObject({ type: 'done', count: prompts.length });
    const indices = events.filter((e) => e.message.type === 'result').map((e) => (e.message as { index: number }).index);
    expect([...indices].sort((a, b) => a - b)).toEqual(prompts.map((_, i) => i));
    const fetched = await client.getResults(job.jobId);
    const sent = new Map(events.filter((e) => e.message.type === 'result').map((e) => [(e.message as { index: number }).index, Buffer.from(e.bytes!).toString('base64')]));
    expect(fetched.results.map((r) => Buffer.from(r.bytes!).toString('base64'))).toEqual(fetched.results.map((r) => sent.get(r.message.index)));
  });

  it('ends a job interrupted when its second worker is killed too', async () => {
    const server = await redis();
    const door = await frontDoor(server.url);
    const client = await connect(door.url);
    const first = await worker(server.url, 'k1');
    const job = await client.submit({ kind: 'set', prompts: ['a star'], options: { model: 'tiny', steps: 200, seed: 12 } });
    const iterator = job[Symbol.asyncIterator]();
    const untilStep = async () => {
      for (;;) {
        const { value } = await iterator.next();
        if (value.message.type === 'progress' && value.message.phase === 'denoising' && value.message.step >= 1) return;
      }
    };
    await untilStep();
    await first.stop('SIGKILL');
    const second = await worker(server.url, 'k2');
    await untilStep();
    await second.stop('SIGKILL');
    // A worker that starts later finds the job stalled a second time.
    await worker(server.url, 'k3');
    let last;
    for (;;) {
      const { value, done } = await iterator.next();
      if (done) break;
      last = value.message;
    }
    expect(last).toMatchObject({ type: 'job_error', code: 'interrupted' });
    expect((await client.getStatus(job.jobId)).state).toBe('interrupted');
  });

  it('lets a client whose front door died follow its job from another and fetch it by id', async () => {
    const server = await redis();
    await worker(server.url, 'w1');
    const first = await frontDoor(server.url);
    const second = await frontDoor(server.url);
    const client = await connect(first.url);
    const job = await client.submit({ kind: 'set', prompts: ['a star', 'a moon', 'a house'], options: { model: 'tiny', steps: 20, seed: 13 } });
    const before: Received[] = [];
    for await (const event of job) {
      before.push(event);
      if (event.message.type === 'result') break;
    }
    // At the first result: that result is stored, so the other front door already serves it.
    const other = await connect(second.url);
    const early = await other.getResults(job.jobId);
    expect(early.results.map((r) => Buffer.from(r.bytes!).toString('base64'))).toContain(Buffer.from(before.at(-1)!.bytes!).toString('base64'));
    await first.stop('SIGKILL');
    const followed: Received[] = [];
    for await (const event of other.follow(job.jobId)) followed.push(event);
    // Its end: the `done` event, or (when it ended before the follow) the status that says so.
    expect(followed.at(-1)!.message).toMatchObject(followed.length === 1 ? { type: 'status', state: 'done', completed: 3 } : { type: 'done', count: 3 });
    const all = await other.getResults(job.jobId);
    expect(all.results.map((r) => r.message.index)).toEqual([0, 1, 2]);
    expect(all.status.state).toBe('done');
  });

  it('goes on through a Redis restart mid-job: front door and worker reconnect by themselves, nothing is lost', async () => {
    const server = await redis();
    const w = await worker(server.url, 'w1', 10_000);
    const door = await frontDoor(server.url);
    const client = await connect(door.url);
    const job = await client.submit({ kind: 'set', prompts: ['a star', 'a moon'], options: { model: 'tiny', steps: 60, seed: 21 } });
    const events: Received[] = [];
    let restarted = false;
    for await (const event of job) {
      events.push(event);
      if (!restarted && event.message.type === 'progress' && event.message.phase === 'denoising' && event.message.step >= 3) {
        restarted = true;
        await server.restart('SIGKILL');
      }
    }
    expect(restarted).toBe(true);
    expect(events.at(-1)!.message).toMatchObject({ type: 'done', count: 2 });
    const fetched = await client.getResults(job.jobId);
    expect(fetched.results.map((r) => r.message.index)).toEqual([0, 1]);
    expect(fetched.results.map((r) => Buffer.from(r.bytes!).toString('base64'))).toEqual(events.filter((e) => e.message.type === 'result').map((e) => Buffer.from(e.bytes!).toString('base64')));
    // Both said they lost Redis and got it back.
    for (const output of [w.output(), door.output()]) expect(output).toMatch(/connected again/);
    // And take the next job as before.
    expect((await drain(await client.submit({ kind: 'set', prompts: ['a house'], options: { model: 'tiny', steps: 2, seed: 22 } }))).at(-1)!.message.type).toBe('done');
  });
});

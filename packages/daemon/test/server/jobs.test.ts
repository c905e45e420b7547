import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DaemonError, type Received } from '../../src/server/client';
import { fakePng } from './support/fake-engine';
import { collect, ofType, TestDaemon } from './support/harness';

let test: TestDaemon;
afterEach(async () => {
  vi.useRealTimers();
  await test.close();
});

const jobDir = (jobId: string) => join(test.dataDir, 'jobs', jobId);

/** Waits for the first event of a type, leaving the rest of the job to iterate. */
async function nextOfType(iterator: AsyncIterator<Received>, type: string): Promise<Received> {
  for (;;) {
    const { value, done } = await iterator.next();
    if (done) throw new Error(`the job ended before a ${type}`);
    if (value.message.type === type) return value;
  }
}

describe('a job', () => {
  it('is accepted, reports progress with an ETA and previews, then one stored result per image, then done', async () => {
    // Every step: the default interval would thin them (next test).
    test = await TestDaemon.start({ engine: { stepDelayMs: 2, previewEvery: 2 }, daemon: { progressIntervalMs: 0 } });
    const client = await test.client();
    const job = await client.submit({ kind: 'set', prompts: ['a star', 'a moon', 'a sun'], options: { seed: 7, steps: 6 } });
    expect(job).toMatchObject({ position: 0, count: 3 });
    const seenOnDisk: boolean[] = [];
    const events: Received[] = [];
    for await (const event of job) {
      events.push(event);
      if (event.message.type === 'result') seenOnDisk.push(existsSync(join(jobDir(job.jobId), `0${event.message.index}.png`)));
    }
    expect(events[0].message).toMatchObject({ type: 'status', state: 'running', jobId: job.jobId });

    const progress = ofType(events, 'progress').map((e) => e.message);
    expect(progress.map((p) => p.phase)).toEqual(['loading', 'loading', ...Array(6).fill('denoising'), ...Array(3).fill('decoding')]);
    const denoising = progress.filter((p) => p.phase === 'denoising');
    expect(denoising.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(denoising.every((p) => typeof p.etaMs === 'number' && p.etaMs >= 0)).toBe(true);
    expect(denoising.at(-1)?.etaMs).toBe(0);
    const previews = ofType(events, 'progress').filter((e) => e.bytes !== undefined);
    expect(previews.map((e) => e.message.step)).toEqual([2, 4, 6]);
    expect(Buffer.from(previews[0].bytes!)).toEqual(Buffer.from(fakePng(8, 8, 2)));

    const results = ofType(events, 'result');
    expect(results.map((r) => r.message)).toMatchObject([
      { index: 0, prompt: 'a star', seed: 7, width: 64, height: 64 },
      { index: 1, prompt: 'a moon', seed: 8 },
      { index: 2, prompt: 'a sun', seed: 9 },
    ]);
    expect(seenOnDisk).toEqual([true, true, true]);
    expect(Buffer.from(results[1].bytes!)).toEqual(Buffer.from(fakePng(64, 64, 8)));
    expect(await readFile(join(jobDir(job.jobId), '01.png'))).toEqual(Buffer.from(results[1].bytes!));

    const done = events.at(-1)!.message;
    expect(done).toMatchObject({ type: 'done', jobId: job.jobId, count: 3 });
    expect(done.type === 'done' && Object.keys(done.timings.phases)).toEqual(['loading', 'denoising', 'decoding']);
    expect(events.every((e) => e.message.id === events[0].message.id)).toBe(true);

    const record = JSON.parse(await readFile(join(jobDir(job.jobId), 'job.json'), 'utf8'));
    expect(record).toMatchObject({ id: job.jobId, kind: 'set', state: 'done', count: 3, options: { model: 'tiny', seed: 7, steps: 6, guidance: 1, width: 64, height: 64, scheduler: 'ddim', shareAttention: true } });
    expect(record.owner.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(record)).not.toContain(test.token);
  });

  it('thins progress to one frame per interval, keeping each phase\'s first and last step and every preview', async () => {
    // The gate reads performance.now(): a fake clock that moves only when the test says makes the
    // frames a job gets a matter of counts, whatever the machine's speed (the gate's own
    // arithmetic is tested with an injected clock in units.test.ts).
    vi.useFakeTimers({ toFake: ['performance'] });
    test = await TestDaemon.start({ engine: { stepDelayMs: 0, previewEvery: 25 }, daemon: { progressIntervalMs: 40 } });
    let msPerStep = 0;
    const run = test.engine.run.bind(test.engine);
    test.engine.run = (job, events, signal) =>
      run(job, { ...events, onProgress: (progress) => (vi.advanceTimersByTime(msPerStep), events.onProgress(progress)) }, signal);
    const client = await test.client();
    const denoisingSteps = async () => {
      const events = await collect(await client.submit({ kind: 'set', prompts: ['a star'], options: { seed: 7, steps: 100 } }));
      const denoising = ofType(events, 'progress').filter((e) => e.message.phase === 'denoising');
      expect(denoising.at(-1)!.message).toMatchObject({ etaMs: 0 });
      return denoising.map((e) => (e.message as { step: number }).step);
    };

    // The clock stands still: only the phase's first step, the previews and the last step pass.
    expect(await denoisingSteps()).toEqual([1, 25, 50, 75, 100]);
    // 10 ms a step, 40 ms interval: every fourth step after the last one passed, plus the rest.
    msPerStep = 10;
    const steps = await denoisingSteps();
    const expected = [1, 5, 9, 13, 17, 21, 25, 29, 33, 37, 41, 45, 49, 50, 54, 58, 62, 66, 70, 74, 75, 79, 83, 87, 91, 95, 99, 100];
    expect(steps).toEqual(expected);
    // A full interval a step: nothing is thinned.
    msPerStep = 40;
    expect(await denoisingSteps()).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  });

  it('runs with resolved options: model defaults, a chosen seed, the daemon default model', async () => {
    test = await TestDaemon.start();
    const client = await test.client();
    await collect(await client.submit({ kind: 'set', prompts: ['a'], options: { model: 'sd15', width: 64, height: 128 } }));
    await collect(await client.submit({ kind: 'set', prompts: ['b'] }));
    const [first, second] = test.engine.jobs;
    expect(first.options).toMatchObject({ model: 'sd15', steps: 4, guidance: 7.5, width: 64, height: 128, negativePrompt: '' });
    expect(second.options).toMatchObject({ model: 'tiny', width: 64, height: 64 });
    expect(Number.isInteger(second.options.seed)).toBe(true);
  });

  it('lists models with kind, size and whether they are loaded', async () => {
    test = await TestDaemon.start();
    const client = await test.client();
    expect((await client.listModels()).map(({ id, kind, width, loaded }) => ({ id, kind, width, loaded }))).toEqual([
      { id: 'tiny', kind: 'default', width: 64, loaded: false },
      { id: 'sd15', kind: 'sd1', width: 512, loaded: false },
    ]);
    await collect(await client.submit({ kind: 'set', prompts: ['a'] }));
    expect(await client.getModel('tiny')).toMatchObject({ id: 'tiny', loaded: true });
    await expect(client.getModel('nope')).rejects.toMatchObject({ code: 'model_not_found', field: 'model' });
  });

  it('ends with job_error carrying the engine error code, and records it', async () => {
    test = await TestDaemon.start({ engine: { fail: { code: 'model_invalid', message: 'unet/model.onnx: missing', afterStep: 2 } } });
    const client = await test.client();
    const job = await client.submit({ kind: 'set', prompts: ['a'] });
    const events = await collect(job);
    expect(events.at(-1)?.message).toMatchObject({ type: 'job_error', code: 'model_invalid', message: 'unet/model.onnx: missing' });
    expect(await client.getStatus(job.jobId)).toMatchObject({ state: 'error', error: { code: 'model_invalid' } });
    // The next job still runs: one failure does not stop the queue.
    test.engine.options.fail = undefined;
    expect((await collect(await client.submit({ kind: 'set', prompts: ['b'] }))).at(-1)?.message.type).toBe('done');
  });

  it('reports an engine error code the protocol does not know as internal, with its message', async () => {
    test = await TestDaemon.start({ engine: { fail: { code: 'out_of_memory', message: 'the GPU ran out of memory', afterStep: 1 } } });
    const client = await test.client();
    const events = await collect(await client.submit({ kind: 'set', prompts: ['a'] }));
    expect(events.at(-1)?.message).toMatchObject({ type: 'job_error', code: 'internal', message: 'the GPU ran out of memory' });
  });

  it('reuses a finished inversion: its trajectory, model, steps and size apply; contradictions are refused', async () => {
    test = await TestDaemon.start();
    const client = await test.client();
    const image = { bytes: fakePng(96, 80, 1), mime: 'image/png' as const };
    const inversion = await client.submit({ kind: 'inversion', referencePrompt: 'a photo', options: { model: 'sd15', steps: 8, width: 64, height: 64 } }, image);
    expect(inversion.count).toBe(0);
    expect((await collect(inversion)).at(-1)?.message).toMatchObject({ type: 'done', count: 0 });
    expect(test.engine.jobs[0]).toMatchObject({ kind: 'inversion', prompts: [], referencePrompt: 'a photo' });
    expect(Buffer.from(test.engine.jobs[0].referenceImage!)).toEqual(Buffer.from(image.bytes));

    const reference = await client.submit({ kind: 'reference', prompts: ['a cat'], referencePrompt: 'a photo', inversionJobId: inversion.jobId });
    expect((await collect(reference)).at(-1)?.message.type).toBe('done');
    expect(test.engine.jobs[1]).toMatchObject({ kind: 'reference', trajectoryKey: `trajectory-${test.engine.jobs[0].options.seed}`, options: { model: 'sd15', steps: 8, width: 64, height: 64, scheduler: 'ddim' } });

    await expect(client.submit({ kind: 'reference', prompts: ['a'], referencePrompt: 'p', inversionJobId: inversion.jobId, options: { steps: 20 } }))
      .rejects.toMatchObject({ code: 'invalid_option', field: 'options.steps' });
    await expect(client.submit({ kind: 'reference', prompts: ['a'], referencePrompt: 'p', inversionJobId: inversion.jobId, options: { inversionOffset: 8 } }))
      .rejects.toMatchObject({ code: 'invalid_option', field: 'options.inversionOffset' });
    await expect(client.submit({ kind: 'reference', prompts: ['a'], referencePrompt: 'p', inversionJobId: reference.jobId }))
      .rejects.toMatchObject({ code: 'invalid_input', field: 'inversionJobId' });
    await expect(client.submit({ kind: 'reference', prompts: ['a'], referencePrompt: 'p', inversionJobId: 'f'.repeat(24) }))
      .rejects.toMatchObject({ code: 'job_not_found', field: 'inversionJobId' });
  });
});

describe('the queue', () => {
  it('is first in, first out, and tells waiting jobs their new position as it moves', async () => {
    test = await TestDaemon.start();
    test.engine.hold();
    const client = await test.client();
    const jobs = [];
    for (const prompt of ['one', 'two', 'three']) jobs.push(await client.submit({ kind: 'set', prompts: [prompt] }));
    expect(jobs.map((j) => j.position)).toEqual([0, 1, 2]);
    const third = jobs[2][Symbol.asyncIterator]();
    test.engine.release();
    const [first, second] = await Promise.all([collect(jobs[0]), collect(jobs[1])]);
    // Second in line until the first ends, then it runs: no position changed in between.
    expect(ofType(second, 'status').map((s) => [s.message.state, s.message.position])).toEqual([['running', undefined]]);
    expect(first.at(-1)?.message.type).toBe('done');
    expect((await nextOfType(third, 'status')).message).toMatchObject({ state: 'queued', position: 1 });
    expect((await nextOfType(third, 'status')).message).toMatchObject({ state: 'running' });
    await nextOfType(third, 'done');
    expect(test.engine.jobs.map((j) => j.prompts[0])).toEqual(['one', 'two', 'three']);
  });

  it('cancels a queued job at once and moves the ones behind it up', async () => {
    test = await TestDaemon.start();
    test.engine.hold();
    const client = await test.client();
    const running = await client.submit({ kind: 'set', prompts: ['a'] });
    const queued = await client.submit({ kind: 'set', prompts: ['b'] });
    const last = await client.submit({ kind: 'set', prompts: ['c'] });
    const lastEvents = last[Symbol.asyncIterator]();
    expect(await client.cancel(queued.jobId)).toMatchObject({ state: 'cancelled', completed: 0, error: { code: 'cancelled' } });
    expect((await collect(queued)).at(-1)?.message).toMatchObject({ type: 'job_error', code: 'cancelled' });
    expect((await nextOfType(lastEvents, 'status')).message).toMatchObject({ state: 'queued', position: 1 });
    test.engine.release();
    await collect(running);
    for (let item = await lastEvents.next(); !item.done; item = await lastEvents.next());
    expect(test.engine.jobs.map((j) => j.prompts[0])).toEqual(['a', 'c']);
  });

  it('cancels a running job at its next step, keeps what it finished, and starts the next job', async () => {
    test = await TestDaemon.start({ engine: { stepDelayMs: 1 } });
    const client = await test.client();
    const job = await client.submit({ kind: 'set', prompts: ['a', 'b'], options: { steps: 50 } });
    const next = await client.submit({ kind: 'set', prompts: ['c'] });
    const events = job[Symbol.asyncIterator]();
    await nextOfType(events, 'progress');
    while (ofType([await nextOfType(events, 'progress')], 'progress')[0].message.phase !== 'denoising');
    // Held mid-step: the cancel must get through a step that would otherwise never end.
    test.engine.hold();
    expect(await client.cancel(job.jobId)).toMatchObject({ state: 'cancelled', jobId: job.jobId });
    test.engine.release();
    const rest: Received[] = [];
    for (let item = await events.next(); !item.done; item = await events.next()) rest.push(item.value);
    expect(rest.at(-1)?.message).toMatchObject({ type: 'job_error', code: 'cancelled' });
    expect(ofType(rest, 'result')).toHaveLength(0);
    expect((await collect(next)).at(-1)?.message.type).toBe('done');
    expect(JSON.parse(await readFile(join(jobDir(job.jobId), 'job.json'), 'utf8')).state).toBe('cancelled');
  });

  it('fails a job whose image cannot be stored, after storing and announcing the images before it', async () => {
    test = await TestDaemon.start({ engine: { holdBeforeImage: 1 } });
    const client = await test.client();
    const job = await client.submit({ kind: 'set', prompts: ['a', 'b', 'c'], options: { seed: 3 } });
    const events = job[Symbol.asyncIterator]();
    await nextOfType(events, 'result');
    // A folder where image 1 must go: its rename fails, as a full or read-only disk would fail it.
    await mkdir(join(jobDir(job.jobId), '01.png'));
    test.engine.release();
    const rest: Received[] = [];
    for (let item = await events.next(); !item.done; item = await events.next()) rest.push(item.value);
    expect(ofType(rest, 'result')).toHaveLength(0);
    expect(rest.at(-1)?.message).toMatchObject({ type: 'job_error', code: 'internal', message: expect.stringContaining('01.png') });
    const record = JSON.parse(await readFile(join(jobDir(job.jobId), 'job.json'), 'utf8'));
    expect(record).toMatchObject({ state: 'error', results: [{ index: 0, prompt: 'a', seed: 3 }] });
    expect(await readFile(join(jobDir(job.jobId), '00.png'))).toEqual(Buffer.from(fakePng(64, 64, 3)));
    expect((await readdir(jobDir(job.jobId))).sort()).toEqual(['00.png', '01.png', 'job.json']);
    // The daemon goes on.
    expect((await collect(await client.submit({ kind: 'set', prompts: ['d'] }))).at(-1)?.message.type).toBe('done');
  });

  it('answers cancel of a finished job with its state, and of an unknown one with job_not_found', async () => {
    test = await TestDaemon.start();
    const client = await test.client();
    const job = await client.submit({ kind: 'set', prompts: ['a'] });
    await collect(job);
    expect(await client.cancel(job.jobId)).toMatchObject({ state: 'done', completed: 1, count: 1 });
    await expect(client.cancel('0'.repeat(24))).rejects.toEqual(new DaemonError('job_not_found', `no job ${'0'.repeat(24)}`, 'jobId'));
  });

  it('refuses a client over its limit with queue_full, on another connection with its token too', async () => {
    // The limit is per pairing token (see queue-limits.test.ts for the total and for clients that left).
    test = await TestDaemon.start({ daemon: { maxJobsPerClient: 2, maxJobs: 3 } });
    test.engine.hold();
    const [a, b] = [await test.client(), await test.client()];
    await a.submit({ kind: 'set', prompts: ['1'] });
    await a.submit({ kind: 'set', prompts: ['2'] });
    await expect(a.submit({ kind: 'set', prompts: ['3'] })).rejects.toMatchObject({ code: 'queue_full', message: expect.stringContaining('limit per client') });
    await expect(b.submit({ kind: 'set', prompts: ['4'] })).rejects.toMatchObject({ code: 'queue_full', message: expect.stringContaining('limit per client') });
  });
});

describe('several clients', () => {
  it('each sees only its own jobs, and another can follow a job by id with the right token', async () => {
    test = await TestDaemon.start({ engine: { stepDelayMs: 1 } });
    const [alice, bob] = [await test.client(), await test.client()];
    test.engine.hold();
    const aliceJob = await alice.submit({ kind: 'set', prompts: ['alice 1', 'alice 2'] });
    const bobJob = await bob.submit({ kind: 'set', prompts: ['bob'] });
    expect(bobJob.position).toBe(1);
    const watched = bob.follow(aliceJob.jobId);
    const first = (await watched.next()).value?.message;
    expect(first).toMatchObject({ type: 'status', jobId: aliceJob.jobId });
    expect(first?.type === 'status' && ['queued', 'running'].includes(first.state)).toBe(true);
    test.engine.release();
    const [aliceEvents, bobEvents] = await Promise.all([collect(aliceJob), collect(bobJob)]);
    const followed: Received[] = [];
    for (let item = await watched.next(); !item.done; item = await watched.next()) followed.push(item.value);

    const jobsIn = (events: Received[]) => new Set(events.map((e) => 'jobId' in e.message && e.message.jobId));
    expect(jobsIn(aliceEvents)).toEqual(new Set([aliceJob.jobId]));
    expect(jobsIn(bobEvents)).toEqual(new Set([bobJob.jobId]));
    expect(ofType(followed, 'result').map((r) => r.message.prompt)).toEqual(['alice 1', 'alice 2']);
    expect(followed.at(-1)?.message.type).toBe('done');
  });
});

describe('the queue and quiet status', () => {
  it('get_queue tells whether a job runs, how many wait, and the token\'s jobs with positions', async () => {
    test = await TestDaemon.start({ engine: { stepDelayMs: 1 } });
    const [a, b] = [await test.client(), await test.client()];
    expect(await a.getQueue()).toMatchObject({ type: 'queue', running: false, waiting: 0, jobs: [] });
    test.engine.hold();
    const first = await a.submit({ kind: 'set', prompts: ['1'] });
    const firstEvents = first[Symbol.asyncIterator]();
    expect((await nextOfType(firstEvents, 'status')).message).toMatchObject({ state: 'running' });
    const second = await b.submit({ kind: 'set', prompts: ['2', '3'] });
    const queue = await b.getQueue();
    expect(queue).toMatchObject({ running: true, waiting: 1 });
    expect(queue.jobs).toEqual([
      { jobId: first.jobId, kind: 'set', state: 'running', completed: 0, count: 1 },
      { jobId: second.jobId, kind: 'set', state: 'queued', position: 1, completed: 0, count: 2 },
    ]);
    test.engine.release();
    while (!(await firstEvents.next()).done);
    await collect(second);
    expect(await a.getQueue()).toMatchObject({ running: false, waiting: 0, jobs: [] });
  });

  it('get_status with follow false answers alone; without it the asker follows the job', async () => {
    test = await TestDaemon.start({ engine: { stepDelayMs: 1 } });
    const client = await test.client();
    test.engine.hold();
    const job = await client.submit({ kind: 'set', prompts: ['a', 'b'], options: { steps: 3 } });
    const socket = await test.pairedSocket();
    socket.send({ v: 1, id: 'quiet', type: 'get_status', jobId: job.jobId, follow: false });
    expect((await socket.next()).message).toMatchObject({ type: 'status', id: 'quiet', jobId: job.jobId });
    socket.send({ v: 1, id: 'loud', type: 'get_status', jobId: job.jobId });
    expect((await socket.next()).message).toMatchObject({ type: 'status', id: 'loud' });
    test.engine.release();
    const rest = await socket.until('done');
    expect(ofType(rest, 'result')).toHaveLength(2);
    expect(new Set(rest.map((e) => e.message.id))).toEqual(new Set(['loud']));
    await collect(job);
  });
});

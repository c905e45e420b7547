import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tokenPath } from '../../src/config/token';
import type { Received } from '../../src/server/client';
import { JobStore, type JobRecord } from '../../src/server/job-store';
import { fakePng } from './support/fake-engine';
import { collect, ofType, TestDaemon } from './support/harness';

let test: TestDaemon;
afterEach(async () => {
  await test.close();
});

async function until(job: AsyncIterable<Received>, type: string): Promise<Received[]> {
  const seen: Received[] = [];
  for await (const event of job) {
    seen.push(event);
    if (event.message.type === type) break;
  }
  return seen;
}

describe('a client that disconnects mid-job', () => {
  it('gets the finished results by job id and follows the rest after reconnecting', async () => {
    test = await TestDaemon.start({ engine: { holdBeforeImage: 1 } });
    const first = await test.client();
    const job = await first.submit({ kind: 'set', prompts: ['a', 'b', 'c'], options: { seed: 40 } });
    await until(job, 'result');
    await first.close();

    const second = await test.client();
    const sofar = await second.getResults(job.jobId);
    expect(sofar.results.map((r) => r.message.index)).toEqual([0]);
    expect(Buffer.from(sofar.results[0].bytes!)).toEqual(Buffer.from(fakePng(64, 64, 40)));
    expect(sofar.status).toMatchObject({ state: 'running', completed: 1, count: 3 });

    const followed = second.follow(job.jobId);
    expect((await followed.next()).value?.message).toMatchObject({ type: 'status', state: 'running' });
    test.engine.release();
    const rest = await collect({ [Symbol.asyncIterator]: () => followed });
    expect(ofType(rest, 'result').map((r) => r.message.index)).toEqual([1, 2]);
    expect(rest.at(-1)?.message).toMatchObject({ type: 'done', count: 3 });

    const tail = await second.getResults(job.jobId, 1);
    expect(tail.results.map((r) => [r.message.index, r.message.seed])).toEqual([[1, 41], [2, 42]]);
    expect(tail.status).toMatchObject({ state: 'done', completed: 3 });
  });

  it('gets them when the job finished while nobody was connected', async () => {
    test = await TestDaemon.start({ engine: { stepDelayMs: 5 } });
    const first = await test.client();
    const job = await first.submit({ kind: 'set', prompts: ['a', 'b'] });
    await first.close();
    const second = await test.client();
    // Still running (then followed to its end) or already done: either way it ends done.
    const last = (await collect(second.follow(job.jobId))).at(-1)!.message;
    expect(last.type === 'done' || (last.type === 'status' && last.state === 'done')).toBe(true);
    const { results, status } = await second.getResults(job.jobId);
    expect(status.state).toBe('done');
    expect(results.map((r) => r.message.prompt)).toEqual(['a', 'b']);
  });
});

describe('a daemon restart', () => {
  it('keeps finished jobs and their images, the token, and runs new jobs', async () => {
    test = await TestDaemon.start();
    let client = await test.client();
    const job = await client.submit({ kind: 'set', prompts: ['kept 1', 'kept 2'] });
    const before = ofType(await collect(job), 'result');
    await test.restart();
    expect(test.daemon.interrupted).toEqual([]);

    client = await test.client();
    expect(await client.getStatus(job.jobId)).toMatchObject({ state: 'done', completed: 2, count: 2 });
    const { results } = await client.getResults(job.jobId);
    expect(results.map((r) => Buffer.from(r.bytes!))).toEqual(before.map((r) => Buffer.from(r.bytes!)));
    const next = await client.submit({ kind: 'set', prompts: ['new'] });
    expect((await collect(next)).at(-1)?.message.type).toBe('done');
  });

  it('ends running and queued jobs as interrupted, tells connected clients, and says so after restarting', async () => {
    test = await TestDaemon.start({ engine: { holdBeforeImage: 1 } });
    const client = await test.client();
    const running = await client.submit({ kind: 'set', prompts: ['a', 'b'] });
    const queued = await client.submit({ kind: 'set', prompts: ['c'] });
    await until(running, 'result');
    const runningEnd = collect(running);
    const queuedEnd = collect(queued);
    await test.restart();
    expect((await runningEnd).at(-1)?.message).toMatchObject({ type: 'job_error', code: 'interrupted' });
    expect((await queuedEnd).at(-1)?.message).toMatchObject({ type: 'job_error', code: 'interrupted' });

    const again = await test.client();
    expect(await again.getStatus(running.jobId)).toMatchObject({ state: 'interrupted', completed: 1, count: 2, error: { code: 'interrupted' } });
    expect(await again.getStatus(queued.jobId)).toMatchObject({ state: 'interrupted', completed: 0 });
    expect((await again.getResults(running.jobId)).results.map((r) => r.message.prompt)).toEqual(['a']);
  });

  it('marks jobs a crashed daemon left queued or running as interrupted, and skips what it cannot read', async () => {
    test = await TestDaemon.start();
    await test.daemon.close();
    const { store } = await JobStore.open(test.dataDir, () => {});
    const record = (id: string, state: JobRecord['state']): JobRecord => ({
      id,
      kind: 'set',
      state,
      owner: { tokenHash: 'x', clientId: 'c1' },
      prompts: ['p'],
      options: { model: 'tiny', seed: 1 } as JobRecord['options'],
      count: 1,
      results: [],
      timings: { createdAt: Date.now() },
    });
    await store.save(record('a'.repeat(24), 'running'));
    await store.save(record('b'.repeat(24), 'queued'));
    await store.save(record('c'.repeat(24), 'done'));
    const jobs = join(test.dataDir, 'jobs');
    await writeFile(join(jobs, 'a'.repeat(24), 'job.json.1234.tmp'), '{"half');
    await mkdir(join(jobs, 'broken'));
    await writeFile(join(jobs, 'broken', 'job.json'), '{ not json');

    await test.restart();
    expect([...test.daemon.interrupted].sort()).toEqual(['a'.repeat(24), 'b'.repeat(24)]);
    const saved = JSON.parse(await readFile(join(jobs, 'a'.repeat(24), 'job.json'), 'utf8'));
    expect(saved).toMatchObject({ state: 'interrupted', error: { code: 'interrupted', message: expect.stringContaining('while the job was running') } });
    expect(existsSync(join(jobs, 'a'.repeat(24), 'job.json.1234.tmp'))).toBe(false);
    expect(test.events.some((e) => e.type === 'warning' && e.message.includes('broken'))).toBe(true);
  });

  it('hides old jobs from a client paired with a new token', async () => {
    test = await TestDaemon.start();
    const client = await test.client();
    const job = await client.submit({ kind: 'set', prompts: ['a'] });
    await collect(job);
    await rm(tokenPath(test.configDir));
    await test.restart();
    const token = (await readFile(tokenPath(test.configDir), 'utf8')).trim();
    expect(token).not.toBe(test.token);
    const stranger = await test.client(token);
    await expect(stranger.getStatus(job.jobId)).rejects.toMatchObject({ code: 'job_not_found' });
    await expect(stranger.getResults(job.jobId)).rejects.toMatchObject({ code: 'job_not_found' });
  });
});

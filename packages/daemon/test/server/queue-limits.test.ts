import { afterEach, describe, expect, it } from 'vitest';
import { collect, TestDaemon } from './support/harness';

let test: TestDaemon;
afterEach(async () => {
  await test.close();
});

const perClient = { code: 'queue_full', message: expect.stringContaining('limit per client') };

describe('the queue limit per client (per pairing token)', () => {
  it('counts the jobs of every connection with the token: a second connection gets no more', async () => {
    test = await TestDaemon.start({ daemon: { maxJobsPerClient: 2, maxJobs: 10 } });
    test.engine.hold();
    const [first, second] = [await test.client(), await test.client()];
    await first.submit({ kind: 'set', prompts: ['1'] });
    await second.submit({ kind: 'set', prompts: ['2'] });
    await expect(first.submit({ kind: 'set', prompts: ['3'] })).rejects.toMatchObject(perClient);
    await expect(second.submit({ kind: 'set', prompts: ['3'] })).rejects.toMatchObject(perClient);
    const third = await test.client();
    await expect(third.submit({ kind: 'set', prompts: ['3'] })).rejects.toMatchObject(perClient);
  });

  it('keeps the jobs of a client that left queued, counts them, and hands them over when it comes back', async () => {
    test = await TestDaemon.start({ daemon: { maxJobsPerClient: 2, maxJobs: 10 } });
    test.engine.hold();
    const leaving = await test.client();
    const jobs = [await leaving.submit({ kind: 'set', prompts: ['a'] }), await leaving.submit({ kind: 'set', prompts: ['b', 'c'] })];
    await leaving.close();

    const back = await test.client();
    expect((await back.getQueue()).jobs.map((j) => j.jobId)).toEqual(jobs.map((j) => j.jobId));
    await expect(back.submit({ kind: 'set', prompts: ['d'] })).rejects.toMatchObject(perClient);

    test.engine.release();
    for (const job of jobs) await collect(back.follow(job.jobId));
    expect((await back.getResults(jobs[1].jobId)).results.map((r) => r.message.prompt)).toEqual(['b', 'c']);
    // Finished jobs no longer count.
    expect((await collect(await back.submit({ kind: 'set', prompts: ['d'] }))).at(-1)?.message.type).toBe('done');
  });

  it('refuses every client once the whole queue is at its limit', async () => {
    test = await TestDaemon.start({ daemon: { maxJobsPerClient: 5, maxJobs: 2 } });
    test.engine.hold();
    const client = await test.client();
    await client.submit({ kind: 'set', prompts: ['1'] });
    await client.submit({ kind: 'set', prompts: ['2'] });
    await expect(client.submit({ kind: 'set', prompts: ['3'] })).rejects.toMatchObject({ code: 'queue_full', message: expect.stringContaining('2 jobs queued or running') });
  });
});

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DaemonError, type Job, type Received, type StylesetClient } from '../packages/daemon/src/server/client';
import { TestDaemon } from '../packages/daemon/test/server/support/harness';

/**
 * Load on loopback: several clients submit many small jobs as fast as the queue lets them, cancel
 * some, and then every accepted job is checked: it ended done or cancelled, and every image it
 * reported is on disk and comes back byte for byte from get_results.
 */
const CLIENTS = 6;
const JOBS_PER_CLIENT = 40;
const CANCEL_EVERY = 5;
const DEADLINE_MS = 25_000;

interface Outcome {
  jobId: string;
  count: number;
  acceptedAt: number;
  endedAt: number;
  end: Received;
  results: Map<number, Uint8Array>;
}

let test: TestDaemon;
beforeAll(async () => {
  test = await TestDaemon.start({ engine: { stepDelayMs: 0 }, daemon: { maxJobsPerClient: 16, maxJobs: 16, maxConnections: CLIENTS + 2 } });
});
afterAll(async () => {
  await test.close();
});

async function drain(job: Job, acceptedAt: number): Promise<Outcome> {
  const results = new Map<number, Uint8Array>();
  for await (const event of job) {
    const { message } = event;
    if (message.type === 'result') {
      expect(results.has(message.index)).toBe(false);
      results.set(message.index, event.bytes!);
    }
    if (message.type === 'done' || message.type === 'job_error') {
      return { jobId: job.jobId, count: job.count, acceptedAt, endedAt: performance.now(), end: event, results };
    }
  }
  throw new Error(`job ${job.jobId} ended without done or job_error`);
}

/** Submits its share, waiting for its own oldest job whenever the daemon says the queue is full. */
async function load(client: StylesetClient, clientIndex: number, counters: { rejected: number }): Promise<Outcome[]> {
  const running: Promise<Outcome>[] = [];
  const outcomes: Outcome[] = [];
  for (let n = 0; n < JOBS_PER_CLIENT; n++) {
    const prompts = Array.from({ length: 1 + ((n + clientIndex) % 3) }, (_, i) => `client ${clientIndex} job ${n} image ${i}`);
    for (;;) {
      try {
        const job = await client.submit({ kind: 'set', prompts, options: { steps: 2, seed: clientIndex * 1000 + n } });
        const outcome = drain(job, performance.now());
        running.push(outcome);
        if (n % CANCEL_EVERY === CANCEL_EVERY - 1) await client.cancel(job.jobId);
        break;
      } catch (error) {
        if (!(error instanceof DaemonError) || error.code !== 'queue_full') throw error;
        counters.rejected++;
        // The limit is per token, shared by every client here: the queue may be full of others' jobs.
        const oldest = running.shift();
        if (oldest === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
        else outcomes.push(await oldest);
      }
    }
  }
  return [...outcomes, ...(await Promise.all(running))];
}

it('completes or cancels every accepted job and loses no result', { timeout: DEADLINE_MS + 10_000 }, async () => {
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => test.client()));
  const counters = { rejected: 0 };
  const started = performance.now();
  const outcomes = (await Promise.all(clients.map((client, i) => load(client, i, counters)))).flat();
  const wallMs = performance.now() - started;
  expect(wallMs).toBeLessThan(DEADLINE_MS);

  expect(outcomes).toHaveLength(CLIENTS * JOBS_PER_CLIENT);
  const done = outcomes.filter((o) => o.end.message.type === 'done');
  const cancelled = outcomes.filter((o) => o.end.message.type === 'job_error');
  for (const o of cancelled) expect(o.end.message).toMatchObject({ code: 'cancelled' });
  expect(done.length + cancelled.length).toBe(outcomes.length);
  for (const o of done) expect([...o.results.keys()].sort()).toEqual([...Array(o.count).keys()]);

  // Nothing reported is lost: every image a client saw is stored and comes back identical.
  const auditor = await test.client();
  for (const o of outcomes) {
    const { results, status } = await auditor.getResults(o.jobId);
    expect(status.state).toBe(o.end.message.type === 'done' ? 'done' : 'cancelled');
    expect(results.map((r) => r.message.index).sort()).toEqual([...o.results.keys()].sort());
    for (const r of results) expect(Buffer.from(r.bytes!).equals(Buffer.from(o.results.get(r.message.index)!))).toBe(true);
    const record = JSON.parse(await readFile(join(test.dataDir, 'jobs', o.jobId, 'job.json'), 'utf8'));
    expect(record.results).toHaveLength(o.results.size);
  }

  const latencies = done.map((o) => o.endedAt - o.acceptedAt).sort((a, b) => a - b);
  const images = outcomes.reduce((sum, o) => sum + o.results.size, 0);
  const at = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]);
  console.log(
    `load: ${CLIENTS} clients, ${outcomes.length} jobs accepted (${done.length} done, ${cancelled.length} cancelled), ` +
      `${counters.rejected} submissions refused with queue_full, ${images} images; ${(wallMs / 1000).toFixed(1)} s, ` +
      `${(outcomes.length / (wallMs / 1000)).toFixed(0)} jobs/s, ${(images / (wallMs / 1000)).toFixed(0)} images/s; ` +
      `accepted->done p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${at(1)} ms`,
  );
});

import { DaemonError, type Job, type Received, type StylesetClient } from '../../../src/server/client';
import type { TestDaemon, TestDaemonOptions } from './harness';

/**
 * Load on loopback: several clients submit many small jobs to a daemon on the fake engine as fast
 * as the queue lets them, and cancel some. test/server-load.test.ts checks what comes of it;
 * `npm run bench` (service under load) times it.
 */
export interface LoadShape {
  clients: number;
  jobsPerClient: number;
  /** Every this many jobs a client cancels the one it just submitted. */
  cancelEvery: number;
}

export const LOAD: LoadShape = { clients: 6, jobsPerClient: 40, cancelEvery: 5 };

/** Small limits, so that clients keep meeting `queue_full` and waiting for jobs to end. */
export function loadDaemonOptions(shape: LoadShape): TestDaemonOptions {
  return { engine: { stepDelayMs: 0 }, daemon: { maxJobsPerClient: 16, maxJobs: 16, maxConnections: shape.clients + 2 } };
}

export interface LoadOutcome {
  jobId: string;
  count: number;
  acceptedAt: number;
  endedAt: number;
  /** `done` or `job_error`. */
  end: Received;
  /** Image bytes by index, each received once. */
  results: Map<number, Uint8Array>;
}

export interface LoadRun {
  outcomes: LoadOutcome[];
  /** Submissions refused with `queue_full` (then retried). */
  refused: number;
  wallMs: number;
}

async function drain(job: Job, acceptedAt: number): Promise<LoadOutcome> {
  const results = new Map<number, Uint8Array>();
  for await (const event of job) {
    const { message } = event;
    if (message.type === 'result') {
      if (results.has(message.index)) throw new Error(`job ${job.jobId} sent image ${message.index} twice`);
      results.set(message.index, event.bytes!);
    }
    if (message.type === 'done' || message.type === 'job_error') {
      return { jobId: job.jobId, count: job.count, acceptedAt, endedAt: performance.now(), end: event, results };
    }
  }
  throw new Error(`job ${job.jobId} ended without done or job_error`);
}

/** Submits its share, waiting for its own oldest job whenever the daemon says the queue is full. */
async function load(client: StylesetClient, clientIndex: number, shape: LoadShape, counters: { refused: number }): Promise<LoadOutcome[]> {
  const running: Promise<LoadOutcome>[] = [];
  const outcomes: LoadOutcome[] = [];
  for (let n = 0; n < shape.jobsPerClient; n++) {
    const prompts = Array.from({ length: 1 + ((n + clientIndex) % 3) }, (_, i) => `client ${clientIndex} job ${n} image ${i}`);
    for (;;) {
      try {
        const job = await client.submit({ kind: 'set', prompts, options: { steps: 2, seed: clientIndex * 1000 + n } });
        running.push(drain(job, performance.now()));
        if (n % shape.cancelEvery === shape.cancelEvery - 1) await client.cancel(job.jobId);
        break;
      } catch (error) {
        if (!(error instanceof DaemonError) || error.code !== 'queue_full') throw error;
        counters.refused++;
        // Every client here pairs with the same token, whose limit they share: the queue may be
        // full of the others' jobs, with none of this client's own to wait for.
        const oldest = running.shift();
        if (oldest === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
        else outcomes.push(await oldest);
      }
    }
  }
  return [...outcomes, ...(await Promise.all(running))];
}

/** Every client's jobs, submitted until each has had its share accepted, and how each ended. */
export async function runLoad(daemon: TestDaemon, shape: LoadShape = LOAD): Promise<LoadRun> {
  const clients = await Promise.all(Array.from({ length: shape.clients }, () => daemon.client()));
  const counters = { refused: 0 };
  const started = performance.now();
  const outcomes = (await Promise.all(clients.map((client, i) => load(client, i, shape, counters)))).flat();
  return { outcomes, refused: counters.refused, wallMs: performance.now() - started };
}

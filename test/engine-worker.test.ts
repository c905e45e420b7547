import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROTOCOL_VERSION, resolveOptions, type DaemonMessageOf } from '@styleset/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readToken } from '../packages/daemon/src/config/token';
import type { Engine, EngineJob, EngineProgress } from '../packages/daemon/src/engine/engine';
import { PipelineEngine, type PipelineEngineOptions } from '../packages/daemon/src/engine/pipeline-engine';
import { WorkerEngine } from '../packages/daemon/src/engine/worker-engine';
import { StylesetClient, type Received } from '../packages/daemon/src/server/client';
import { startDaemon } from '../packages/daemon/src/server/daemon';
import { startFixtureDaemon, type FixtureDaemon } from './support/serve-engine-daemon';
import { tinyModelSet } from './support/tiny-model-set';
import { endsJob, Wire, type Arrival } from './support/wire';

// The daemon runs the pipeline in an engine process (WorkerEngine), so that its own event loop
// answers while a U-Net step runs. Checked by the order messages arrive in, never by time: the
// large tiny model's step at 96x96 (about a second on one thread) is far longer than a loopback
// round trip, and than the scheduling hiccups of a busy machine. Starting engine processes from
// the TypeScript sources is slow on a loaded machine, hence the longer timeouts.
// STYLESET_TEST_ENGINE=in-thread runs the same checks against the daemon with the pipeline on its
// own thread, where they fail.

let set: Awaited<ReturnType<typeof tinyModelSet<'large' | 'small'>>>;
let root: string;

beforeAll(async () => {
  set = await tinyModelSet({ large: { family: 'sd1', size: 'large' }, small: { family: 'sd1' } });
  root = await mkdtemp(join(tmpdir(), 'styleset-worker-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
  await set?.dispose();
});

function engineOptions(name: string, models = [{ id: 'large', dir: set.models.large.dir }, { id: 'small', dir: set.models.small.dir }]): PipelineEngineOptions {
  return { models, defaultModelId: models[0].id, runtime: { provider: 'cpu', threads: 1 }, dataDir: join(root, name) };
}

describe('the daemon answers while a step runs', { timeout: 180_000 }, () => {
  let daemon: FixtureDaemon;
  let url: string;
  let token: string;
  let wire: Wire;
  let jobs = 0;

  beforeAll(async () => {
    daemon = await startFixtureDaemon(process.env.STYLESET_TEST_ENGINE ?? 'worker', join(root, 'serve-data'), join(root, 'serve-config'), [`large=${set.models.large.dir}`]);
    ({ url, token, wire } = daemon);
  });

  afterAll(async () => {
    await daemon?.stop();
  });

  /** Submits a two-image set on the large model; `onStep` runs the moment each denoising step's progress arrives. */
  async function runJob(steps: number, onStep: (step: number, jobId: string) => void): Promise<Arrival[]> {
    const id = `job${++jobs}`;
    let jobId = '';
    const off = wire.on((arrival) => {
      const m = arrival.message;
      if (m.id !== id) return;
      if (m.type === 'accepted') jobId = m.jobId;
      if (m.type === 'progress' && m.phase === 'denoising') onStep(m.step, jobId);
    });
    const end = wire.next((arrival) => endsJob(arrival, id));
    wire.send({ v: PROTOCOL_VERSION, id, type: 'submit', kind: 'set', prompts: ['a star', 'a moon'], options: { steps, seed: 1, width: 96, height: 96 } });
    await end;
    off();
    return wire.log.filter((a) => a.message.id === id);
  }

  /** Arrival of denoising progress `step` of a job's events. */
  function progressAt(events: Arrival[], step: number): Arrival | undefined {
    return events.find((a) => a.message.type === 'progress' && a.message.phase === 'denoising' && a.message.step === step);
  }

  it('answers get_queue sent after step k before step k + 1 ends, and again and again while it runs', async () => {
    // Each reply sends the next request, until the following step's progress arrives. A daemon
    // whose loop is blocked by the step answers at most the one or two that slip in between
    // steps (one, on the in-thread engine); one that stays free answers one per round trip all
    // through the step.
    const replies = new Map<number, Arrival[]>();
    let current = 0;
    const ask = (step: number) => {
      const id = `queue${jobs}-${step}-${replies.get(step)!.length}`;
      void wire.next((a) => a.message.id === id).then((reply) => {
        replies.get(step)!.push(reply);
        if (current === step) ask(step);
      });
      wire.send({ v: PROTOCOL_VERSION, id, type: 'get_queue' });
    };
    const events = await runJob(4, (step) => {
      current = step;
      if (step < 1 || step > 3) return;
      replies.set(step, []);
      ask(step);
    });
    expect(events.at(-1)!.message.type).toBe('done');
    expect([...replies.keys()]).toEqual([1, 2, 3]);
    for (const [step, answers] of replies) {
      const next = progressAt(events, step + 1)!.seq;
      expect(answers[0].message).toMatchObject({ type: 'queue', running: true });
      expect({ step, firstBeforeNextStep: answers[0].seq < next }).toEqual({ step, firstBeforeNextStep: true });
      expect(answers.filter((a) => a.seq < next).length).toBeGreaterThanOrEqual(5);
    }
  });

  it('welcomes a new connection opened during a step before that step ends', async () => {
    const opened: Promise<{ step: number; welcome: Arrival; wire: Wire }>[] = [];
    const events = await runJob(4, (step) => {
      if (step === 1 || step === 3) opened.push(Wire.open(url, token).then(({ wire: other, welcome }) => ({ step, welcome, wire: other })));
    });
    expect(events.at(-1)!.message.type).toBe('done');
    expect(opened).toHaveLength(2);
    for (const { step, welcome, wire: other } of await Promise.all(opened)) {
      expect(welcome.message.type).toBe('welcome');
      expect({ step, before: welcome.seq < progressAt(events, step + 1)!.seq }).toEqual({ step, before: true });
      await other.close();
    }
  });

  it('a cancel sent after step k stops the job before step k + 2', async () => {
    const k = 2;
    const events = await runJob(12, (step, jobId) => {
      if (step === k) wire.send({ v: PROTOCOL_VERSION, id: `cancel${jobs}`, type: 'cancel', jobId });
    });
    const last = events.at(-1)!.message;
    expect(last).toMatchObject({ type: 'job_error', code: 'cancelled' });
    const steps = events.filter((a) => a.message.type === 'progress' && a.message.phase === 'denoising').map((a) => (a.message as { step: number }).step);
    expect(Math.max(...steps)).toBeLessThanOrEqual(k + 1);
    expect(events.some((a) => a.message.type === 'result')).toBe(false);
  });
});

describe('WorkerEngine', { timeout: 180_000 }, () => {
  function job(model: string, overrides: Partial<EngineJob> = {}, options: Record<string, unknown> = {}): EngineJob {
    const info = { kind: 'sd1' as const, width: 16, height: 16, defaults: { scheduler: 'ddim' as const, steps: 3, guidance: 7.5 } };
    return { kind: 'set', prompts: ['a star', 'a moon', 'a house'], ...overrides, options: { ...resolveOptions(overrides.kind ?? 'set', info, options as never), model, seed: 3 } };
  }

  async function collect(engine: Engine, input: EngineJob) {
    const progress: EngineProgress[] = [];
    const pngs: Buffer[] = [];
    const outcome = await engine.run(input, { onProgress: (p) => progress.push(p), onResult: async (r) => void pngs.push(Buffer.from(r.png)) }, new AbortController().signal);
    return { progress: progress.map(({ phase, step, total }) => `${phase} ${step}/${total}`), pngs, outcome };
  }

  it('runs a job as the in-process engine does: the same events in order, the same PNG bytes, models loaded on first use', async () => {
    const inProcess = new PipelineEngine(engineOptions('same-a'));
    const worker = new WorkerEngine(engineOptions('same-b'));
    try {
      expect((await worker.listModels()).map((m) => [m.id, m.loaded])).toEqual([['large', false], ['small', false]]);
      expect(await worker.listModels()).toEqual((await inProcess.listModels()).map((m) => m));
      const a = await collect(inProcess, job('small', { kind: 'set' }, { previewEvery: 1 }));
      const b = await collect(worker, job('small', { kind: 'set' }, { previewEvery: 1 }));
      expect(b.progress).toEqual(a.progress);
      expect(b.pngs).toHaveLength(3);
      expect(b.pngs.map((png) => png.toString('base64'))).toEqual(a.pngs.map((png) => png.toString('base64')));
      expect(Object.keys(b.outcome.timings)).toEqual(Object.keys(a.outcome.timings));
      expect((await worker.listModels()).map((m) => [m.id, m.loaded])).toEqual([['large', false], ['small', true]]);
    } finally {
      await inProcess.close();
      await worker.close();
    }
    expect(worker.workerPid).toBeUndefined();
  });

  it("passes the pipeline's errors on with their class, code and message", async () => {
    const broken = join(root, 'broken');
    await cp(set.models.small.dir, broken, { recursive: true });
    await rm(join(broken, 'vae_decoder'), { recursive: true });
    const models = [{ id: 'small', dir: set.models.small.dir }, { id: 'broken', dir: broken }];
    const inProcess = new PipelineEngine(engineOptions('errors-a', models));
    const worker = new WorkerEngine(engineOptions('errors-b', models));
    const failure = (engine: Engine, input: EngineJob) => engine.run(input, { onProgress: () => undefined, onResult: async () => undefined }, new AbortController().signal).then(
      () => expect.unreachable('the job should fail'),
      (error: Error & { code?: string }) => ({ name: error.name, code: error.code, message: error.message }),
    );
    try {
      const notAnImage = job('small', { kind: 'reference', prompts: ['a moon'], referencePrompt: 'a star', referenceImage: new TextEncoder().encode('not an image') }, { steps: 2, inversionOffset: 0 });
      for (const input of [job('broken'), notAnImage, job('nowhere')]) {
        const expected = await failure(inProcess, input);
        expect(expected.code).toMatch(/^(model_invalid|invalid_input|model_not_found)$/);
        expect(await failure(worker, input)).toEqual(expected);
      }
      // An error in the daemon's own onResult reaches the pipeline, which stops.
      const taken = worker.run(job('small'), { onProgress: () => undefined, onResult: async () => Promise.reject(new Error('the disk is full')) }, new AbortController().signal);
      await expect(taken).rejects.toThrow('the disk is full');
    } finally {
      await inProcess.close();
      await worker.close();
    }
  });

  it('a killed engine process fails its job with a clear error; the daemon stays up and the next job runs', async () => {
    const engine = new WorkerEngine(engineOptions('crash'));
    const daemon = await startDaemon({ engine, dataDir: join(root, 'crash'), configDir: join(root, 'crash-config'), port: 0, progressIntervalMs: 0 });
    const client = await StylesetClient.connect({ url: daemon.url, token: await readToken(join(root, 'crash-config')) });
    const drain = async (events: AsyncIterable<Received>) => {
      const all: Received[] = [];
      for await (const e of events) all.push(e);
      return all;
    };
    try {
      const doomed = await client.submit({ kind: 'set', prompts: ['a star', 'a moon'], options: { model: 'large', steps: 20, seed: 1 } });
      let killed = false;
      const events: Received[] = [];
      for await (const e of doomed) {
        events.push(e);
        if (!killed && e.message.type === 'progress' && e.message.phase === 'denoising' && e.message.step === 1) {
          killed = process.kill(engine.workerPid!, 'SIGKILL');
        }
      }
      expect(killed).toBe(true);
      expect(events.at(-1)!.message).toMatchObject({ type: 'job_error', code: 'internal', message: expect.stringMatching(/engine process was killed by SIGKILL.*new one for the next job/) });
      expect((await client.listModels()).find((m) => m.id === 'large')!.loaded).toBe(false);
      const next = await drain(await client.submit({ kind: 'set', prompts: ['a star', 'a moon'], options: { model: 'small', steps: 2, seed: 1 } }));
      expect(next.at(-1)!.message.type).toBe('done');
      expect(next.filter((e) => e.message.type === 'result')).toHaveLength(2);
    } finally {
      await client.close();
      await daemon.close();
      await engine.close();
    }
  });
});

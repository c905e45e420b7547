/**
 * Saved styles over the protocol, against the daemon on the real pipeline: a style saved from a
 * client's finished set is shared by every client of the daemon, a set submitted in it gives each
 * image the PNG it had in that set; an image style is inverted once and its trajectory kept; a
 * style whose model id now names other weights is refused.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readToken } from '../packages/daemon/src/config/token';
import { PipelineEngine } from '../packages/daemon/src/engine/pipeline-engine';
import { DaemonError, StylesetClient, type Received } from '../packages/daemon/src/server/client';
import { startDaemon, type Daemon } from '../packages/daemon/src/server/daemon';
import { tinyModelSet } from './support/tiny-model-set';

let set: Awaited<ReturnType<typeof tinyModelSet<'sd1' | 'other'>>>;
let root: string;

/** A daemon on the data folder `root/data` whose model `sd1` is the tiny model `dir`. */
async function daemonWith(dir: string) {
  const engine = new PipelineEngine({ models: [{ id: 'sd1', dir }], defaultModelId: 'sd1', runtime: { provider: 'cpu', threads: 1 }, dataDir: join(root, 'data') });
  const daemon = await startDaemon({ engine, dataDir: join(root, 'data'), configDir: join(root, 'config'), port: 0 });
  const token = await readToken(join(root, 'config'));
  const connect = () => StylesetClient.connect({ url: daemon.url, token });
  return {
    connect,
    close: async () => {
      await daemon.close();
      await engine.close();
    },
  };
}

async function pngs(job: AsyncIterable<Received>): Promise<Map<number, Buffer>> {
  const out = new Map<number, Buffer>();
  for await (const event of job) {
    if (event.message.type === 'result') out.set(event.message.index, Buffer.from(event.bytes!));
    if (event.message.type === 'job_error') throw new Error(`job failed: ${event.message.message}`);
  }
  return out;
}

async function refusal(promise: Promise<unknown>): Promise<DaemonError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DaemonError);
  return error as DaemonError;
}

beforeAll(async () => {
  // Two tiny models of the same shape: `other` has other weights (another U-Net hash).
  set = await tinyModelSet({ sd1: { family: 'sd1' }, other: { family: 'sd1', seed: 1 } });
  root = await mkdtemp(join(tmpdir(), 'styleset-serve-styles-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
  await set.dispose();
});

describe('saved styles over the protocol', () => {
  const prompts = ['a star', 'a moon', 'a house', 'a tree', 'a boat'];
  let whole: Map<number, Buffer>;

  it('saves a finished set as a style every connection sees, and runs new images in it exactly', async () => {
    const daemon = await daemonWith(set.models.sd1.dir);
    const [alice, bob] = [await daemon.connect(), await daemon.connect()];
    try {
      // Batches of three: [0 1 2] [0 3 4].
      const job = await alice.submit({ kind: 'set', prompts, options: { steps: 3, seed: 40, batchSize: 3 } });
      whole = await pngs(job);
      expect([...whole.keys()].sort()).toEqual([0, 1, 2, 3, 4]);

      const saved = await alice.saveStyle({ name: 'brand', jobId: job.jobId });
      expect(saved).toMatchObject({ name: 'brand', kind: 'set', prompt: 'a star', seed: 40, nextIndex: 5, model: { id: 'sd1' }, options: { steps: 3, batchSize: 3 } });
      expect((await bob.listStyles()).map((s) => s.name)).toEqual(['brand']);
      const taken = await refusal(bob.saveStyle({ name: 'brand', jobId: job.jobId }));
      expect([taken.code, taken.field]).toEqual(['style_exists', 'name']);

      // Bob adds image 4 in the style: the PNG it had in Alice's set, with its seed.
      const later = await bob.submit({ kind: 'set', prompts: [prompts[4]], style: 'brand', firstIndex: 4 });
      const results: Received<'result'>[] = [];
      for await (const event of later) if (event.message.type === 'result') results.push(event as Received<'result'>);
      expect(results.map((r) => [r.message.index, r.message.seed])).toEqual([[0, 44]]);
      expect(Buffer.compare(Buffer.from(results[0].bytes!), whole.get(4)!)).toBe(0);
      // Images 1 and 2 together, and 3 alone.
      const two = await pngs(await bob.submit({ kind: 'set', prompts: prompts.slice(1, 3), style: 'brand', firstIndex: 1 }));
      expect(Buffer.compare(two.get(0)!, whole.get(1)!)).toBe(0);
      expect(Buffer.compare(two.get(1)!, whole.get(2)!)).toBe(0);
      const three = await pngs(await bob.submit({ kind: 'set', prompts: [prompts[3]], style: 'brand', firstIndex: 3 }));
      expect(Buffer.compare(three.get(0)!, whole.get(3)!)).toBe(0);
      // The control: the same prompt at another index is another image.
      const moved = await pngs(await bob.submit({ kind: 'set', prompts: [prompts[3]], style: 'brand', firstIndex: 2 }));
      expect(Buffer.compare(moved.get(0)!, whole.get(3)!)).not.toBe(0);

      const unknown = await refusal(bob.submit({ kind: 'set', prompts: ['a cat'], style: 'nope' }));
      expect([unknown.code, unknown.field]).toEqual(['style_not_found', 'style']);
      const reference = await refusal(bob.submit({ kind: 'set', prompts: ['a cat'], style: 'brand', firstIndex: 0 }));
      expect([reference.code, reference.field]).toEqual(['invalid_input', 'firstIndex']);
    } finally {
      await alice.close();
      await bob.close();
      await daemon.close();
    }
  }, 240_000);

  it('saves an image as a style, inverts it on first use, keeps the trajectory and reuses it', async () => {
    const daemon = await daemonWith(set.models.sd1.dir);
    const client = await daemon.connect();
    try {
      const saved = await client.saveStyle({ name: 'badge', referencePrompt: 'a round badge', options: { steps: 3, inversionOffset: 1 } }, { bytes: whole.get(0)!, mime: 'image/png' });
      expect(saved).toMatchObject({ name: 'badge', kind: 'image', prompt: 'a round badge', nextIndex: 0, options: { steps: 3, inversionOffset: 1 } });
      expect(saved.seed).toBeUndefined();
      const trajectories = join(root, 'data', 'styles', 'badge', 'trajectories');
      const kept = () => readdir(trajectories).catch(() => [] as string[]);
      expect(await kept()).toEqual([]);

      const run = async () => {
        const phases = new Set<string>();
        const images = new Map<number, Buffer>();
        for await (const event of await client.submit({ kind: 'set', prompts: ['a square badge'], style: 'badge', options: { seed: 5 } })) {
          if (event.message.type === 'progress') phases.add(event.message.phase);
          if (event.message.type === 'result') images.set(event.message.index, Buffer.from(event.bytes!));
        }
        return { phases, png: images.get(0)! };
      };
      const first = await run();
      expect(first.phases.has('inverting')).toBe(true);
      expect(await kept()).toHaveLength(1);
      const second = await run();
      // From the kept trajectory: no inversion, the same image.
      expect(second.phases.has('inverting')).toBe(false);
      expect(Buffer.compare(second.png, first.png)).toBe(0);
    } finally {
      await client.close();
      await daemon.close();
    }
  }, 240_000);

  it('refuses a style whose model id now has another U-Net, and deletes it', async () => {
    // The same data folder and model id, other weights behind it.
    const daemon = await daemonWith(set.models.other.dir);
    const client = await daemon.connect();
    try {
      const mismatch = await refusal(client.submit({ kind: 'set', prompts: ['a cat'], style: 'brand', firstIndex: 5 }));
      expect(mismatch.code).toBe('model_mismatch');
      expect(mismatch.message).toMatch(/brand.*sd1/);
      expect((await client.deleteStyle('brand')).map((style) => style.name)).toEqual(['badge']);
      expect((await refusal(client.deleteStyle('brand'))).code).toBe('style_not_found');
    } finally {
      await client.close();
      await daemon.close();
    }
  }, 120_000);
});

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readToken } from '../packages/daemon/src/config/token';
import { PipelineEngine } from '../packages/daemon/src/engine/pipeline-engine';
import { decodePng } from '../packages/daemon/src/image/png';
import { DEFAULT_DECODE_LIMITS } from '../packages/daemon/src/image/image8';
import { StylesetClient, type Received } from '../packages/daemon/src/server/client';
import { startDaemon, type Daemon } from '../packages/daemon/src/server/daemon';
import { tinyModelSet } from './support/tiny-model-set';

let set: Awaited<ReturnType<typeof tinyModelSet<'sd1' | 'sdxl'>>>;
let root: string;
let engine: PipelineEngine;
let daemon: Daemon;
let client: StylesetClient;

beforeAll(async () => {
  set = await tinyModelSet({ sd1: { family: 'sd1' }, sdxl: { family: 'sdxl', attention: 'explicit' } });
  root = await mkdtemp(join(tmpdir(), 'styleset-serve-'));
  engine = new PipelineEngine({
    models: [{ id: 'sd1', dir: set.models.sd1.dir }, { id: 'sdxl', dir: set.models.sdxl.dir }],
    defaultModelId: 'sd1',
    runtime: { provider: 'cpu', threads: 1 },
    dataDir: join(root, 'data'),
  });
  daemon = await startDaemon({ engine, dataDir: join(root, 'data'), configDir: join(root, 'config'), port: 0 });
  client = await StylesetClient.connect({ url: daemon.url, token: await readToken(join(root, 'config')) });
});

afterAll(async () => {
  await client?.close();
  await daemon?.close();
  await engine?.close();
  await rm(root, { recursive: true, force: true });
  await set.dispose();
});

async function drain(job: AsyncIterable<Received>): Promise<Received[]> {
  const events: Received[] = [];
  for await (const e of job) events.push(e);
  return events;
}

describe('the daemon on the real pipeline', () => {
  it('lists the models with kind, size and whether they are loaded', async () => {
    const models = await client.listModels();
    expect(models.map((m) => [m.id, m.kind, m.loaded])).toEqual([['sd1', 'sd1', false], ['sdxl', 'sdxl', false]]);
    expect(models[0].width).toBe(set.models.sd1.dims.unet.sampleSize * 2);
  });

  it('sends a preview strip of the batch every previewEvery steps when asked', async () => {
    const job = await client.submit({ kind: 'set', prompts: ['a star', 'a moon'], options: { model: 'sd1', steps: 4, seed: 4, previewEvery: 2 } });
    const previews = (await drain(job)).filter((e) => e.message.type === 'progress' && e.bytes !== undefined) as Received<'progress'>[];
    expect(previews.map((p) => p.message.step)).toEqual([2, 4]);
    const side = set.models.sd1.dims.unet.sampleSize;
    for (const p of previews) {
      const png = decodePng(p.bytes!, 'preview', DEFAULT_DECODE_LIMITS);
      // Two latent-size tiles, scaled up to at least 64 pixels high.
      const scale = Math.ceil(64 / side);
      expect([png.width, png.height]).toEqual([2 * side * scale, side * scale]);
    }
  });

  it.each(['sd1', 'sdxl'])('%s: a style-aligned set arrives as PNGs, stored before they are announced', async (model) => {
    const job = await client.submit({ kind: 'set', prompts: ['a star', 'a moon', 'a house'], options: { model, steps: 3, seed: 4 } });
    const events = await drain(job);
    const results = events.filter((e) => e.message.type === 'result') as Received<'result'>[];
    expect(results.map((r) => [r.message.index, r.message.prompt, r.message.seed])).toEqual([[0, 'a star', 4], [1, 'a moon', 5], [2, 'a house', 6]]);
    for (const r of results) {
      const png = decodePng(r.bytes!, 'result', DEFAULT_DECODE_LIMITS);
      expect([png.width, png.height]).toEqual([r.message.width, r.message.height]);
      const stored = await readFile(join(root, 'data', 'jobs', job.jobId, `${String(r.message.index).padStart(2, '0')}.png`));
      expect(Buffer.compare(stored, Buffer.from(r.bytes!))).toBe(0);
    }
    const phases = new Set(events.filter((e) => e.message.type === 'progress').map((e) => (e.message as { phase: string }).phase));
    expect([...phases]).toEqual(expect.arrayContaining(['encoding', 'denoising', 'decoding']));
    expect(events.at(-1)!.message.type).toBe('done');
    // Results fetched later are the same bytes.
    const again = await client.getResults(job.jobId);
    expect(again.results.map((r) => Buffer.from(r.bytes!).toString('base64'))).toEqual(results.map((r) => Buffer.from(r.bytes!).toString('base64')));
    expect((await client.listModels()).find((m) => m.id === model)!.loaded).toBe(true);
  });

  it('an inversion job is reused by a reference job without inverting again', async () => {
    const first = await drain(await client.submit({ kind: 'set', prompts: ['a star'], options: { steps: 2, seed: 1, shareAttention: false } }));
    const image = (first.find((e) => e.message.type === 'result') as Received<'result'>).bytes!;
    const inversion = await client.submit({ kind: 'inversion', referencePrompt: 'a star', options: { steps: 4 } }, { bytes: image, mime: 'image/png' });
    const inverted = await drain(inversion);
    expect(inverted.at(-1)!.message.type).toBe('done');
    const reference = await client.submit({ kind: 'reference', prompts: ['a moon', 'a bolt'], referencePrompt: 'a star', inversionJobId: inversion.jobId, options: { inversionOffset: 1, seed: 2 } });
    const events = await drain(reference);
    const phases = new Set(events.filter((e) => e.message.type === 'progress').map((e) => (e.message as { phase: string }).phase));
    expect(phases.has('inverting')).toBe(false);
    expect(events.filter((e) => e.message.type === 'result')).toHaveLength(2);
  });

  it('a bad option is refused before queueing, naming the field', async () => {
    await expect(client.submit({ kind: 'set', prompts: ['a star'], options: { steps: 0 } })).rejects.toMatchObject({ code: 'invalid_option', field: 'options.steps' });
    await expect(client.submit({ kind: 'set', prompts: ['a star'], options: { model: 'nope' } })).rejects.toMatchObject({ code: 'model_not_found' });
  });
});

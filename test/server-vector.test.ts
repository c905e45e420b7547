/**
 * Vector output from a real daemon on loopback, its pipeline and vector stage in the engine
 * process, on the embedded model (images that separate) and a tiny random-weight model (noise:
 * images that cannot be separated). The service's side alone, with a fake engine, is
 * packages/daemon/test/server/vector-results.test.ts.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { resolveOptions, type DaemonMessageOf } from '@styleset/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readToken } from '../packages/daemon/src/config/token';
import type { EngineResult } from '../packages/daemon/src/engine/engine';
import type { PipelineEngineOptions } from '../packages/daemon/src/engine/pipeline-engine';
import { WorkerEngine } from '../packages/daemon/src/engine/worker-engine';
import { CancelledError } from '../packages/daemon/src/errors';
import type { Image8 } from '../packages/daemon/src/image/image8';
import { EMBEDDED_MODEL_ID, defaultModelDir } from '../packages/daemon/src/model/default-model';
import { DaemonError, StylesetClient, type Received } from '../packages/daemon/src/server/client';
import { startDaemon, type Daemon } from '../packages/daemon/src/server/daemon';
import { expectPngBound, longHex, mae, paths, render } from '../packages/daemon/test/vector/support';
import { tinyModelSet } from './support/tiny-model-set';

const PROMPTS = ['a home icon', 'a search icon', 'a settings icon', 'a user icon'];

let set: Awaited<ReturnType<typeof tinyModelSet<'noise'>>>;
let root: string;
let engineOptions: PipelineEngineOptions;
let engine: WorkerEngine;
let daemon: Daemon;
let client: StylesetClient;

async function start(): Promise<void> {
  engine = new WorkerEngine(engineOptions);
  daemon = await startDaemon({ engine, dataDir: join(root, 'data'), configDir: join(root, 'config'), port: 0 });
  client = await StylesetClient.connect({ url: daemon.url, token: await readToken(join(root, 'config')) });
}

async function stop(): Promise<void> {
  await client?.close();
  await daemon?.close();
  await engine?.close();
}

beforeAll(async () => {
  set = await tinyModelSet({ noise: { family: 'sd1', size: 'large' } });
  root = await mkdtemp(join(tmpdir(), 'styleset-vector-serve-'));
  engineOptions = {
    models: [
      { id: EMBEDDED_MODEL_ID, dir: defaultModelDir(), embedded: true },
      { id: 'noise', dir: set.models.noise.dir },
    ],
    defaultModelId: EMBEDDED_MODEL_ID,
    runtime: { provider: 'cpu', threads: 1 },
    dataDir: join(root, 'data'),
  };
  await start();
}, 120_000);

afterAll(async () => {
  await stop();
  await rm(root, { recursive: true, force: true });
  await set?.dispose();
});

async function drain(job: AsyncIterable<Received>): Promise<Received[]> {
  const events: Received[] = [];
  for await (const event of job) events.push(event);
  return events;
}

const resultsOf = (events: Received[]) => events.filter((e) => e.message.type === 'result') as Received<'result'>[];
const described = (r: Received<'result'>) => [r.message.index, r.message.format, r.message.attachment.mime];
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** A PNG's own pixels, alpha included (the daemon's decoder composites alpha away). */
function rgba(bytes: Uint8Array): Image8 {
  const png = PNG.sync.read(Buffer.from(bytes));
  return { width: png.width, height: png.height, channels: 4, data: new Uint8Array(png.data) };
}

/** IHDR's colour type: 6 is RGBA, 2 RGB. */
const colourType = (png: Uint8Array) => png[25];

describe('a both + transparent set on the embedded model', { timeout: 240_000 }, () => {
  let jobId: string;
  let announced: Received<'result'>[];
  let done: DaemonMessageOf<'done'>;

  it('arrives as PNGs with alpha, then SVGs sharing one palette, each stored before it is announced', async () => {
    const job = await client.submit({ kind: 'set', prompts: PROMPTS, options: { seed: 3, format: 'both', background: 'transparent' } });
    jobId = job.jobId;
    const events: Received[] = [];
    for await (const event of job) {
      events.push(event);
      // Announced means stored: the file is there, with these bytes, when the message arrives.
      if (event.message.type === 'result') {
        const { index, format } = event.message;
        const stored = await readFile(join(root, 'data', 'jobs', jobId, `0${index}.${format}`));
        expect(Buffer.compare(stored, Buffer.from(event.bytes!)), `${index}.${format}`).toBe(0);
      }
    }
    announced = resultsOf(events);
    expect(announced.map(described)).toEqual([
      ...[0, 1, 2, 3].map((i) => [i, 'png', 'image/png']),
      ...[0, 1, 2, 3].map((i) => [i, 'svg', 'image/svg+xml']),
    ]);
    // The model draws one icon on a plain background: every image separates (no PNG has a
    // warning; an SVG's only possible one is its error beyond the bound, checked below).
    expect(announced.slice(0, 4).map((r) => r.message.warning)).toEqual(Array(4).fill(undefined));
    done = events.at(-1)!.message as DaemonMessageOf<'done'>;
    expect(done.type).toBe('done');
    expect(done.count).toBe(4);
    expect(done.vector?.palettes).toHaveLength(1);
    const [{ colors, images }] = done.vector!.palettes;
    expect(images).toEqual([0, 1, 2, 3]);
    expect(done.vector!.failed).toBeUndefined();

    const errors: number[] = [];
    for (const i of [0, 1, 2, 3]) {
      const png = announced[i];
      const svg = announced[4 + i];
      expect([svg.message.prompt, svg.message.seed, svg.message.width]).toEqual([png.message.prompt, png.message.seed, png.message.width]);
      expect(colourType(png.bytes!)).toBe(6);
      const pixels = rgba(png.bytes!);
      // A corner is background: transparent in the PNG and the SVG alike.
      expect(pixels.data[3]).toBe(0);
      const document = text(svg.bytes!);
      const fills = paths(document).map((p) => longHex(p.fill));
      expect(fills.length).toBeGreaterThan(0);
      expect(fills.every((fill) => colors.includes(fill)), `image ${i}: its fills are the set's palette`).toBe(true);
      const rendered = render(document, pixels.width);
      expect(rendered.data[3]).toBe(0);
      errors.push(mae(rendered, pixels));
    }
    // The bound against the (transparent) PNG, or the SVG's warning says by how much.
    expectPngBound(errors, announced.slice(4).map((r) => r.message.warning));
  });

  it('is served again after a restart, in the order announced, byte for byte, with its palette', async () => {
    expect(announced).toHaveLength(8);
    await stop();
    await start();
    const again = await client.getResults(jobId);
    expect(again.results.map((r) => ({ ...r.message, id: undefined }))).toEqual(announced.map((r) => ({ ...r.message, id: undefined })));
    for (const [i, r] of again.results.entries()) expect(Buffer.compare(Buffer.from(r.bytes!), Buffer.from(announced[i].bytes!))).toBe(0);
    expect(again.status).toMatchObject({ state: 'done', completed: 4, count: 4, vector: done.vector });
  });
});

describe('palette per image on the embedded model', { timeout: 240_000 }, () => {
  it('gives each image its own palette, and an svg job only SVGs', async () => {
    const events = await drain(await client.submit({ kind: 'set', prompts: PROMPTS.slice(0, 2), options: { seed: 5, format: 'svg', palette: 'image' } }));
    const results = resultsOf(events);
    expect(results.map(described)).toEqual([0, 1].map((i) => [i, 'svg', 'image/svg+xml']));
    const done = events.at(-1)!.message as DaemonMessageOf<'done'>;
    expect(done.vector!.palettes.map((p) => p.images)).toEqual([[0], [1]]);
    for (const [i, r] of results.entries()) {
      const fills = paths(text(r.bytes!)).map((p) => longHex(p.fill));
      expect(fills.every((fill) => done.vector!.palettes[i].colors.includes(fill))).toBe(true);
      // Background kept: the SVG covers the whole image.
      expect(render(text(r.bytes!), r.message.width).data[3]).toBe(255);
    }
    // Two palettes fitted separately differ.
    expect(done.vector!.palettes[0].colors).not.toEqual(done.vector!.palettes[1].colors);
  });
});

describe('an image that cannot be separated (a random-weight model draws noise)', { timeout: 240_000 }, () => {
  it('keeps its background with a warning on both its results, and the job is done', async () => {
    // Measured: this model's 64 px images have a border noise of 0.045 to 0.054 in OKLab, over the 0.04 of a textured background.
    const options = { model: 'noise', steps: 2, seed: 1, width: 64, height: 64, format: 'both', background: 'transparent' } as const;
    const events = await drain(await client.submit({ kind: 'set', prompts: ['a star', 'a moon'], options }));
    const results = resultsOf(events);
    expect(results.map(described)).toEqual([
      [0, 'png', 'image/png'],
      [1, 'png', 'image/png'],
      [0, 'svg', 'image/svg+xml'],
      [1, 'svg', 'image/svg+xml'],
    ]);
    for (const r of results) expect(r.message.warning, `${r.message.index}.${r.message.format}`).toMatch(/^background kept: \S/);
    for (const [i, png] of results.slice(0, 2).entries()) {
      // The PNG is the image as decoded: opaque RGB.
      expect(colourType(png.bytes!)).toBe(2);
      // Its SVG still reproduces it within the bound, with many more paths than an icon.
      const svg = text(results[2 + i].bytes!);
      expect(mae(render(svg, 64), rgba(png.bytes!))).toBeLessThanOrEqual(10);
      expect(paths(svg).length).toBeGreaterThan(8);
    }
    const done = events.at(-1)!.message;
    expect(done).toMatchObject({ type: 'done', count: 2, vector: { palettes: [{ images: [0, 1] }] } });
    expect(done).not.toHaveProperty('vector.failed');
  });
});

describe('options', () => {
  it.each([
    [{ kind: 'set', prompts: ['a star'], options: { format: 'pdf' } }, 'options.format', 'options.format must be "png" or "svg" or "both"'],
    [{ kind: 'set', prompts: ['a star'], options: { background: 'white' } }, 'options.background', 'options.background must be "keep" or "transparent"'],
    [{ kind: 'set', prompts: ['a star'], options: { palette: 'shared' } }, 'options.palette', 'options.palette must be "set" or "image"'],
  ])('a wrong one is refused naming the field: %j', async (request, field, message) => {
    const refused = client.submit(request as Parameters<StylesetClient['submit']>[0]);
    await expect(refused).rejects.toBeInstanceOf(DaemonError);
    await expect(refused).rejects.toMatchObject({ code: 'invalid_option', field, message });
  });
});

describe('cancelling while the SVGs are made', { timeout: 240_000 }, () => {
  it('stops the engine process before it hands out any SVG', async () => {
    // The engine on its own: the cancel is sent while the last PNG is being taken, so it reaches
    // the engine process before the SVGs start (its messages arrive in order).
    const own = new WorkerEngine({ ...engineOptions, dataDir: join(root, 'cancel') });
    try {
      const [model] = await own.listModels();
      const controller = new AbortController();
      const pngs: EngineResult[] = [];
      let svgs = 0;
      const run = own.run(
        { kind: 'set', prompts: PROMPTS, options: { ...resolveOptions('set', model, { format: 'both' }), model: model.id, seed: 3 } },
        {
          onProgress: () => undefined,
          onResult: async (result) => {
            pngs.push(result);
            if (pngs.length === PROMPTS.length) controller.abort();
          },
          onVector: async () => {
            svgs++;
          },
        },
        controller.signal,
      );
      await expect(run).rejects.toBeInstanceOf(CancelledError);
      expect(pngs.map((p) => p.index)).toEqual([0, 1, 2, 3]);
      expect(svgs).toBe(0);
    } finally {
      await own.close();
    }
  });
});

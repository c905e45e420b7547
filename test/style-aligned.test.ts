import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STYLE_ALIGNED_DEFAULTS, REFERENCE_IMAGE_DEFAULTS, resolveOptions } from '@styleset/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineJob, EngineResult } from '../packages/daemon/src/engine/engine';
import { PipelineEngine } from '../packages/daemon/src/engine/pipeline-engine';
import { rgbToPixels, pixelsToRgb } from '../packages/daemon/src/image/convert';
import { parseNpy } from '../packages/daemon/src/image/npy';
import { encodePng } from '../packages/daemon/src/image/png';
import { concatBatch } from '../packages/daemon/src/model/tensor';
import { applyGuidance } from '../packages/daemon/src/scheduler/guidance';
import { generateSet, type GenerateOptions, type GeneratedImage } from '../packages/daemon/src/pipeline/generate';
import { invertImage } from '../packages/daemon/src/pipeline/invert';
import { Pipeline } from '../packages/daemon/src/pipeline/pipeline';
import { UnetRunner } from '../packages/daemon/src/pipeline/unet';
import { encodeImage } from '../packages/daemon/src/pipeline/vae';
import { referenceInversion } from './support/ddim-inversion-reference';
import { tinyModelSet } from './support/tiny-model-set';

const variants = { sd1: { family: 'sd1', attention: 'explicit' }, sdxl: { family: 'sdxl', weights: 'external' } } as const;
type Name = keyof typeof variants;

let set: Awaited<ReturnType<typeof tinyModelSet<Name>>>;
let cacheDir: string;
const pipelines: Partial<Record<Name, Pipeline>> = {};

async function pipeline(name: Name): Promise<Pipeline> {
  pipelines[name] ??= await Pipeline.load(set.models[name].dir, { provider: 'cpu', threads: 1 }, { cacheDir });
  return pipelines[name]!;
}

const shared = { ...STYLE_ALIGNED_DEFAULTS };

function options(p: Pipeline, overrides: Partial<GenerateOptions> = {}): GenerateOptions {
  const { layout } = p.model;
  return {
    prompts: ['a red star icon', 'a blue moon icon', 'a green house icon'],
    negativePrompt: '',
    steps: 4,
    guidance: 7.5,
    seed: 3,
    width: layout.nativeWidth,
    height: layout.nativeHeight,
    sampler: 'ddim',
    batchSize: 8,
    ...overrides,
  };
}

async function collect(p: Pipeline, o: GenerateOptions): Promise<GeneratedImage[]> {
  const out: GeneratedImage[] = [];
  for await (const image of generateSet(p, o)) out.push(image);
  return out.sort((a, b) => a.index - b.index);
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 1e-6;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

beforeAll(async () => {
  set = await tinyModelSet(variants);
  cacheDir = await mkdtemp(join(tmpdir(), 'styleset-cache-'));
});

afterAll(async () => {
  await Promise.all(Object.values(pipelines).map((p) => p!.release()));
  await set.dispose();
  await rm(cacheDir, { recursive: true, force: true });
});

describe.each(Object.keys(variants) as Name[])('%s', (name) => {
  it('sharing changes the targets and leaves the reference as it was', async () => {
    const p = await pipeline(name);
    const plain = await collect(p, options(p, { sharing: p.sharing(null) }));
    const styled = await collect(p, options(p, { sharing: p.sharing(shared) }));
    expect(maxRelDiff(styled[0].latents.data, plain[0].latents.data)).toBeLessThan(1e-4);
    for (const i of [1, 2]) expect(maxRelDiff(styled[i].latents.data, plain[i].latents.data)).toBeGreaterThan(1e-3);
  });

  it('the rewritten U-Net with sharing off generates what the export does', async () => {
    const p = await pipeline(name);
    const original = await Pipeline.load(set.models[name].dir, { provider: 'cpu', threads: 1 });
    try {
      const a = await collect(original, options(original));
      const b = await collect(p, options(p, { sharing: p.sharing(null) }));
      a.forEach((img, i) => expect(maxRelDiff(b[i].latents.data, img.latents.data)).toBeLessThan(1e-4));
    } finally {
      await original.release();
    }
  });

  it('a set in several batches equals the one-batch set: every batch gets the reference tensors', async () => {
    const p = await pipeline(name);
    const prompts = ['a red star icon', 'a blue moon icon', 'a green house icon', 'a bolt icon', 'a heart icon'];
    const one = await collect(p, options(p, { prompts, batchSize: 5, sharing: p.sharing(shared) }));
    const chunked = await collect(p, options(p, { prompts, batchSize: 2, sharing: p.sharing(shared) }));
    expect(chunked.map((c) => c.index)).toEqual([0, 1, 2, 3, 4]);
    one.forEach((img, i) => expect(maxRelDiff(chunked[i].latents.data, img.latents.data)).toBeLessThan(1e-4));
    // The one-batch U-Net's session, released for the lockstep one's, is created again and computes the same.
    const again = await collect(p, options(p, { prompts, batchSize: 5, sharing: p.sharing(shared) }));
    one.forEach((img, i) => expect(maxRelDiff(again[i].latents.data, img.latents.data)).toBe(0));
  });
});

describe('a set larger than one batch', () => {
  it('computes the reference once per step: one batch holds it, the others hold targets only', async () => {
    const p = await pipeline('sd1');
    const prompts = ['a red star icon', 'a blue moon icon', 'a green house icon', 'a bolt icon', 'a heart icon'];
    const calls: { rows: number; external: number | undefined }[] = [];
    const predictWith = UnetRunner.prototype.predictWith;
    UnetRunner.prototype.predictWith = async function (this: UnetRunner, call, height, width, outputs) {
      const external = call.extra?.styleset_external_reference as { ints: Int32Array } | undefined;
      calls.push({ rows: call.latents.dims[0], external: external?.ints[0] });
      return predictWith.call(this, call, height, width, outputs);
    };
    try {
      await collect(p, options(p, { prompts, steps: 3, batchSize: 2, sharing: p.sharing(shared) }));
    } finally {
      UnetRunner.prototype.predictWith = predictWith;
    }
    // Slots 0..4 in batches of 2: [reference, 1], [2, 3], [4, filler], each step in that order;
    // with guidance every image is 2 rows. Chunks that each carried the reference would be 4 calls
    // of [reference, target] a step.
    const step = [{ rows: 4, external: 0 }, { rows: 4, external: 1 }, { rows: 4, external: 1 }];
    expect(calls).toEqual([...step, ...step, ...step]);
  });
});

describe('reference image', () => {
  it('DDIM inversion matches an independent implementation of the method', async () => {
    const p = await pipeline('sd1');
    const { layout } = p.model;
    const [source] = await collect(p, options(p, { prompts: ['a red star icon'], sharing: p.sharing(null) }));
    const image = pixelsToRgb(source.pixels);
    const steps = 5;
    const guidance = 2;
    const trajectory = await invertImage(p, { image, prompt: 'a red star icon', steps, guidance, width: image.width, height: image.height });

    const z0 = await encodeImage((await p.model.vaeEncoder())!, layout, rgbToPixels([image]));
    const cond = await p.conditioner.encode(['', 'a red star icon']);
    const extra = p.sharing(null)!.feeds({ images: 1, guided: true });
    const expected = await referenceInversion(z0.data, steps, async (z, t) => {
      const zz = { data: z, dims: z0.dims };
      const out = await p.unet.predict({ latents: concatBatch([zz, zz]), timestep: t, hidden: cond.hidden, extra }, image.height, image.width);
      return applyGuidance(out.data, guidance);
    });
    const per = z0.data.length;
    expect(trajectory.dims).toEqual([steps + 1, ...z0.dims.slice(1)]);
    expected.forEach((entry, k) => expect(maxRelDiff(trajectory.data.subarray(k * per, (k + 1) * per), entry)).toBeLessThan(1e-4));
  });

  it('a second set in the same style reuses the stored trajectory and gives the same images', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'styleset-data-'));
    const engine = new PipelineEngine({ models: [{ id: 'sd1', dir: set.models.sd1.dir }], defaultModelId: 'sd1', runtime: { provider: 'cpu', threads: 1 }, dataDir });
    try {
      const [model] = await engine.listModels();
      const p = await pipeline('sd1');
      const [source] = await collect(p, options(p, { prompts: ['a red star icon'], sharing: p.sharing(null) }));
      const job: EngineJob = {
        kind: 'reference',
        prompts: ['a blue moon icon', 'a green house icon'],
        referencePrompt: 'a red star icon',
        referenceImage: encodePng(pixelsToRgb(source.pixels)),
        options: { ...resolveOptions('reference', model, { steps: 6, inversionOffset: 2 }), model: 'sd1', seed: 11 },
      };
      const run = async () => {
        const phases = new Set<string>();
        const results: EngineResult[] = [];
        const outcome = await engine.run(job, { onProgress: (e) => phases.add(e.phase), onResult: async (r) => void results.push(r) }, new AbortController().signal);
        return { phases, results, outcome };
      };
      const first = await run();
      const second = await run();
      expect(first.phases.has('inverting')).toBe(true);
      expect(second.phases.has('inverting')).toBe(false);
      expect(second.outcome.trajectoryKey).toBe(first.outcome.trajectoryKey);
      expect(first.results.map((r) => [r.index, r.prompt, r.seed])).toEqual([[0, 'a blue moon icon', 11], [1, 'a green house icon', 12]]);
      first.results.forEach((r, i) => expect(Buffer.compare(Buffer.from(r.png), Buffer.from(second.results[i].png))).toBe(0));

      // The stored trajectory is the one a fresh inversion computes.
      const stored = await readFile(engine.trajectoryFile(first.outcome.trajectoryKey!));
      const fresh = await invertImage(p, { image: pixelsToRgb(source.pixels), prompt: 'a red star icon', steps: 6, guidance: REFERENCE_IMAGE_DEFAULTS.inversionGuidance, width: model.width, height: model.height });
      expect(maxRelDiff(parseNpy(stored, 'stored').data, fresh.data)).toBeLessThan(1e-6);
    } finally {
      await engine.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('reference-image sets in several batches equal one batch, and the reference slot ends on the encoded image', async () => {
    const p = await pipeline('sd1');
    const [source] = await collect(p, options(p, { prompts: ['a red star icon'], sharing: p.sharing(null) }));
    const image = pixelsToRgb(source.pixels);
    const steps = 4;
    const trajectory = await invertImage(p, { image, prompt: 'a red star icon', steps, guidance: 2, width: image.width, height: image.height });
    const reference = { prompt: 'a red star icon', trajectory, offset: 1 };
    const prompts = ['a blue moon icon', 'a green house icon', 'a bolt icon'];
    const one = await collect(p, options(p, { prompts, steps, batchSize: 4, reference, sharing: p.sharing(shared) }));
    const chunked = await collect(p, options(p, { prompts, steps, batchSize: 2, reference, sharing: p.sharing(shared) }));
    expect(one.map((i) => i.index)).toEqual([0, 1, 2]);
    one.forEach((img, i) => expect(maxRelDiff(chunked[i].latents.data, img.latents.data)).toBeLessThan(1e-4));
    const plain = await collect(p, options(p, { prompts, steps, batchSize: 4, reference, sharing: p.sharing(null) }));
    expect(maxRelDiff(one[0].latents.data, plain[0].latents.data)).toBeGreaterThan(1e-3);
  });
});

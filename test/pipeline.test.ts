import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelInfoSchema, REFERENCE_IMAGE_DEFAULTS, resolveOptions } from '@styleset/protocol';
import { ModelError } from '../packages/daemon/src/errors';
import { modelDefaults, readModelLayout } from '../packages/daemon/src/model/layout';
import { elementCount, type Feed, type FloatTensor } from '../packages/daemon/src/model/tensor';
import { FILLER, generateSet, planBatches, planChunks, planLockstep, type GenerateOptions, type GeneratedImage } from '../packages/daemon/src/pipeline/generate';
import { Pipeline } from '../packages/daemon/src/pipeline/pipeline';
import { GaussianSource } from '../packages/daemon/src/scheduler/noise';
import { tinyModelSet } from './support/tiny-model-set';

const variants = {
  sd1: { family: 'sd1' },
  sd1_explicit_int64: { family: 'sd1', attention: 'explicit', timestep: 'int64-batch', inputIds: 'int64', vaeEncoderOutput: 'latent_sample' },
  sd1_fp16_external: { family: 'sd1', dtype: 'fp16', weights: 'external' },
  sd2_vpred: { family: 'sd2' },
  sdxl: { family: 'sdxl', weights: 'external' },
  sdxl_turbo: { family: 'sdxl', attention: 'explicit', turbo: true, inputIds: 'int64' },
  sd1_lcm: { family: 'sd1', lcm: true },
} as const;

let set: Awaited<ReturnType<typeof tinyModelSet<keyof typeof variants>>>;
const pipelines: Partial<Record<keyof typeof variants, Pipeline>> = {};

async function pipeline(name: keyof typeof variants): Promise<Pipeline> {
  pipelines[name] ??= await Pipeline.load(set.models[name].dir, { provider: 'cpu', threads: 1 });
  return pipelines[name]!;
}

function baseOptions(p: Pipeline, overrides: Partial<GenerateOptions> = {}): GenerateOptions {
  const { layout } = p.model;
  return {
    prompts: ['a red star icon', 'a blue moon icon', 'a green house icon'],
    negativePrompt: '',
    steps: 3,
    guidance: layout.defaults.guidance,
    seed: 7,
    width: layout.nativeWidth,
    height: layout.nativeHeight,
    sampler: layout.defaults.sampler,
    batchSize: 3,
    ...overrides,
  };
}

async function collect(p: Pipeline, options: GenerateOptions): Promise<GeneratedImage[]> {
  const out: GeneratedImage[] = [];
  for await (const image of generateSet(p, options)) out.push(image);
  return out.sort((a, b) => a.index - b.index);
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

beforeAll(async () => {
  set = await tinyModelSet(variants);
});

afterAll(async () => {
  await Promise.all(Object.values(pipelines).map((p) => p!.release()));
  await set.dispose();
});

describe('model layout', () => {
  it('reads family, native size and sampler defaults from the configs', async () => {
    const sd1 = await readModelLayout(set.models.sd1.dir);
    expect(sd1.family).toBe('sd1');
    expect(sd1.textEncoders).toHaveLength(1);
    const d = set.models.sd1.dims;
    expect(sd1.nativeWidth).toBe(d.unet.sampleSize * 2);
    expect(sd1.defaults.sampler).toBe('ddim');
    const xl = await readModelLayout(set.models.sdxl.dir);
    expect(xl.family).toBe('sdxl');
    expect(xl.textEncoders).toHaveLength(2);
    expect(xl.forceZerosForEmptyPrompt).toBe(true);
    const turbo = await readModelLayout(set.models.sdxl_turbo.dir);
    expect(turbo.defaults).toEqual({ sampler: 'euler_ancestral', steps: 1, guidance: 0 });
    const lcm = await readModelLayout(set.models.sd1_lcm.dir);
    expect(lcm.defaults).toEqual({ sampler: 'lcm', steps: 4, guidance: 8.5 });
    expect(lcm.unet.guidanceEmbedDim).toBe(16);
    expect((await readModelLayout(set.models.sd2_vpred.dir)).family).toBe('sd2');
  });

  it('names the missing or malformed file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'broken-model-'));
    try {
      await expect(readModelLayout(join(dir, 'nope'))).rejects.toThrow(/nope is not a folder/);
      await expect(readModelLayout(dir)).rejects.toThrow(/model_index\.json is missing/);
      await cp(set.models.sd1.dir, dir, { recursive: true });
      await rm(join(dir, 'unet', 'model.onnx'));
      await expect(readModelLayout(dir)).rejects.toThrow(/unet\/model\.onnx is missing: the U-Net/);
      await cp(join(set.models.sd1.dir, 'unet'), join(dir, 'unet'), { recursive: true });
      await writeFile(join(dir, 'scheduler', 'scheduler_config.json'), '{ not json');
      await expect(readModelLayout(dir)).rejects.toThrow(/scheduler_config\.json: the scheduler config is not valid JSON/);
      await writeFile(join(dir, 'scheduler', 'scheduler_config.json'), '{}');
      await writeFile(join(dir, 'unet', 'config.json'), JSON.stringify({ sample_size: 'big' }));
      await expect(readModelLayout(dir)).rejects.toThrow(/unet\/config\.json: "sample_size" must be a number/);
      await rm(join(dir, 'tokenizer', 'merges.txt'));
      await expect(readModelLayout(dir)).rejects.toThrow(ModelError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("takes the guidance and StyleAligned settings a folder's styleset.json recommends, and names what is wrong in one", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'recommending-model-'));
    try {
      await cp(set.models.sd1.dir, dir, { recursive: true });
      expect((await readModelLayout(dir)).defaults).toEqual({ sampler: 'ddim', steps: 50, guidance: 7.5 });
      await writeFile(join(dir, 'styleset.json'), JSON.stringify({ styleAligned: { shareGroupNorm: true, sharedScoreShift: 0.69 } }));
      const layout = await readModelLayout(dir);
      expect(layout.defaults).toEqual({ sampler: 'ddim', steps: 50, guidance: 7.5, styleAligned: { shareGroupNorm: true, sharedScoreShift: 0.69 } });
      expect(modelInfoSchema.shape.defaults.parse(modelDefaults(layout))).toEqual({ scheduler: 'ddim', steps: 50, guidance: 7.5, styleAligned: { shareGroupNorm: true, sharedScoreShift: 0.69 } });
      await writeFile(join(dir, 'styleset.json'), JSON.stringify({ guidance: 4.5, styleAligned: { shareGroupNorm: true } }));
      const guided = await readModelLayout(dir);
      expect(guided.defaults).toEqual({ sampler: 'ddim', steps: 50, guidance: 4.5, referenceGuidance: 4.5, styleAligned: { shareGroupNorm: true } });
      // Both paths take the recommended guidance, over the image path's own 10.
      const info = { kind: 'sd1' as const, width: 64, height: 64, defaults: modelInfoSchema.shape.defaults.parse(modelDefaults(guided)) };
      expect(resolveOptions('set', info).guidance).toBe(4.5);
      expect(resolveOptions('reference', info).guidance).toBe(4.5);
      expect(resolveOptions('reference', { ...info, defaults: modelDefaults(layout) }).guidance).toBe(REFERENCE_IMAGE_DEFAULTS.guidance);
      expect(resolveOptions('set', info, { guidance: 2 }).guidance).toBe(2);
      const wrong: Array<[unknown, RegExp]> = [
        [{ styleAligned: { shareGroupNorm: 'yes' } }, /styleset\.json: styleAligned\.shareGroupNorm: .*boolean/],
        [{ styleAligned: { sharedScoreShift: 1e9 } }, /styleset\.json: styleAligned\.sharedScoreShift: /],
        [{ styleAligned: { shareAttention: false } }, /styleset\.json: styleAligned: .*shareAttention/],
        [{ styleAligned: [] }, /styleset\.json: styleAligned: /],
        [{ sharing: {} }, /styleset\.json: unknown key "sharing" \(expected only "guidance" or "styleAligned"\)/],
        [{ guidance: '5' }, /styleset\.json: guidance: .*number/],
        [{ guidance: -1 }, /styleset\.json: guidance: /],
      ];
      for (const [content, message] of wrong) {
        await writeFile(join(dir, 'styleset.json'), JSON.stringify(content));
        await expect(readModelLayout(dir)).rejects.toThrow(message);
      }
      await writeFile(join(dir, 'styleset.json'), '[1]');
      await expect(readModelLayout(dir)).rejects.toThrow(/styleset\.json: the model's recommended settings must be a JSON object/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('generation', () => {
  it.each(Object.keys(variants) as (keyof typeof variants)[])('%s: one finite image per prompt at the native size', async (name) => {
    const p = await pipeline(name);
    const images = await collect(p, baseOptions(p));
    expect(images.map((i) => i.index)).toEqual([0, 1, 2]);
    expect(images.map((i) => i.seed)).toEqual([7, 8, 9]);
    const { nativeWidth: w, nativeHeight: h } = p.model.layout;
    for (const image of images) {
      expect(image.pixels.dims).toEqual([1, 3, h, w]);
      expect(image.pixels.data.every(Number.isFinite)).toBe(true);
      expect(image.latents.dims).toEqual([1, ...p.latentShape(w, h)]);
    }
    // Different prompts and seeds give different images.
    expect(maxAbsDiff(images[0].pixels.data, images[1].pixels.data)).toBeGreaterThan(1e-3);
  });

  it('the same seed gives the same images; another seed other images', async () => {
    for (const name of ['sd1', 'sdxl_turbo'] as const) {
      const p = await pipeline(name);
      const a = await collect(p, baseOptions(p));
      const b = await collect(p, baseOptions(p));
      const c = await collect(p, baseOptions(p, { seed: 8 }));
      a.forEach((img, i) => expect(maxAbsDiff(img.pixels.data, b[i].pixels.data)).toBe(0));
      expect(maxAbsDiff(a[0].latents.data, c[0].latents.data)).toBeGreaterThan(1e-3);
    }
  });

  it('initial latents equal to the seeded noise reproduce the seeded images', async () => {
    const p = await pipeline('sd1');
    const options = baseOptions(p);
    const shape = p.latentShape(options.width, options.height);
    const per = elementCount(shape);
    const init = new Float32Array(3 * per);
    for (let i = 0; i < 3; i++) init.set(new GaussianSource(7 + i).next(per), i * per);
    const seeded = await collect(p, options);
    const fromFile = await collect(p, { ...options, seed: 1000, initLatents: { data: init, dims: [3, ...shape] } });
    seeded.forEach((img, i) => expect(maxAbsDiff(img.latents.data, fromFile[i].latents.data)).toBe(0));
  });

  it('rejects initial latents of the wrong shape and sizes the VAE cannot produce', async () => {
    const p = await pipeline('sd1');
    const bad: FloatTensor = { data: new Float32Array(8), dims: [2, 1, 2, 2] };
    await expect(collect(p, baseOptions(p, { initLatents: bad }))).rejects.toThrow(/initial latents have shape \[2, 1, 2, 2\], expected \[3, /);
    await expect(collect(p, baseOptions(p, { width: 15 }))).rejects.toThrow(/width 15 must be a positive multiple of 2/);
  });

  it('chunking a plain set changes nothing: each image has its own seed and noise', async () => {
    for (const name of ['sd1', 'sdxl_turbo'] as const) {
      const p = await pipeline(name);
      const one = await collect(p, baseOptions(p, { batchSize: 3 }));
      const chunked = await collect(p, baseOptions(p, { batchSize: 1 }));
      one.forEach((img, i) => expect(maxAbsDiff(img.latents.data, chunked[i].latents.data)).toBeLessThan(1e-4));
    }
  });

  it('guidance <= 1 runs the conditional half only, and differs from guided sampling', async () => {
    const p = await pipeline('sd1');
    const unguided = await collect(p, baseOptions(p, { guidance: 1 }));
    const guided = await collect(p, baseOptions(p, { guidance: 7.5 }));
    expect(maxAbsDiff(unguided[0].latents.data, guided[0].latents.data)).toBeGreaterThan(1e-4);
  });
});

describe('text conditioning', () => {
  it('SDXL conditions an empty prompt on zeros; SD 1.x encodes it', async () => {
    const xl = await (await pipeline('sdxl')).conditioner.encode(['', 'a star']);
    const row = xl.hidden.dims[1] * xl.hidden.dims[2];
    expect(xl.hidden.dims[2]).toBe(set.models.sdxl.dims.textEncoders.reduce((w, e) => w + e.hidden, 0));
    expect(xl.hidden.data.subarray(0, row).every((v) => v === 0)).toBe(true);
    expect(xl.pooled!.data.subarray(0, xl.pooled!.dims[1]).every((v) => v === 0)).toBe(true);
    expect(xl.hidden.data.subarray(row).some((v) => v !== 0)).toBe(true);
    const sd = await (await pipeline('sd1')).conditioner.encode(['']);
    expect(sd.hidden.data.some((v) => v !== 0)).toBe(true);
    expect(sd.pooled).toBeUndefined();
  });
});

describe('chunk planning', () => {
  const _ = FILLER;

  it('puts the reference first in every chunk, in as few chunks as hold the set, all of one size', () => {
    expect(planChunks(5, 3, true)).toEqual([[0, 1, 2], [0, 3, 4]]);
    expect(planChunks(3, 8, true)).toEqual([[0, 1, 2]]);
    expect(planChunks(1, 4, true)).toEqual([[0]]);
    expect(planChunks(5, 2, false)).toEqual([[0, 1], [2, 3], [4, _]]);
    // 5 targets in batches of at most 4 (and the reference) make 2 batches of 3 targets, the
    // last with a filler row, not 4 + 1.
    expect(planChunks(6, 5, true)).toEqual([[0, 1, 2, 3], [0, 4, 5, _]]);
    expect(planChunks(7, 3, false)).toEqual([[0, 1, 2], [3, 4, 5], [6, _, _]]);
    const big = planChunks(33, 17, true);
    expect(big.map((c) => c.length)).toEqual([17, 17]);
    expect(big.flatMap((c) => c.slice(1))).toEqual(Array.from({ length: 32 }, (_, i) => i + 1));
    expect(() => planChunks(5, 1, true)).toThrow(/at least 2/);
  });

  it("places every image by its own index and the batch size alone, whatever else is in its set", () => {
    // Where slot s runs in the whole set of 0..n-1, and in a set of the reference and s alone.
    const place = (chunks: number[][], slot: number) => {
      const batch = chunks.findIndex((rows) => rows.includes(slot));
      return { batch, row: chunks[batch].indexOf(slot), rows: chunks[batch].length };
    };
    for (const size of [2, 3, 5, 17]) {
      for (const count of [2, 6, 11, 40]) {
        const whole = planBatches(Array.from({ length: count }, (_, i) => i), size, true, true);
        expect(whole.every((rows) => rows.length === size && rows[0] === 0)).toBe(true);
        for (let slot = 1; slot < count; slot++) {
          const alone = planBatches([0, slot], size, true, true);
          expect(alone).toHaveLength(1);
          // The batch's number differs (a set of one batch), its shape and the image's row do not.
          expect({ ...place(alone, slot), batch: 0 }).toEqual({ ...place(whole, slot), batch: 0 });
          expect(place(whole, slot)).toEqual({ batch: Math.floor((slot - 1) / (size - 1)), row: ((slot - 1) % (size - 1)) + 1, rows: size });
        }
      }
    }
    // Images 5 and 8 of a set whose batches held the reference and 3 images: where they ran in it.
    expect(planBatches([0, 5, 8], 4, true, true)).toEqual([[0, _, 5, _], [0, _, 8, _]]);
    // Full attention share attends to every row: no fillers.
    expect(planBatches([0, 5, 8], 4, true, false)).toEqual([[0, 5], [0, 8]]);
    expect(planBatches([0, 1, 2, 3, 4], 4, true, false)).toEqual([[0, 1, 2, 3], [0, 4]]);
  });

  it('in lockstep, the reference leads batch 0 only; an image runs at row s mod B of batch s div B, whatever else is in its set', () => {
    expect(planLockstep([0, 1, 2, 3, 4], 2)).toEqual([[0, 1], [2, 3], [4, _]]);
    expect(planLockstep(Array.from({ length: 33 }, (_, i) => i), 17)).toEqual([
      Array.from({ length: 17 }, (_, i) => i),
      [...Array.from({ length: 16 }, (_, i) => 17 + i), _],
    ]);
    // A continued style: the reference's batch holds it alone, an image keeps its row.
    expect(planLockstep([0, 5, 8], 4)).toEqual([[0, _, _, _], [_, 5, _, _], [8, _, _, _]]);
    // Below B the layout is the one-batch layout (row s), so batch 0 is the same either way.
    expect(planLockstep([0, 2, 3], 4)).toEqual([[0, _, 2, 3]]);
    expect(planBatches([0, 2, 3], 4, true, true)).toEqual([[0, _, 2, 3]]);
    expect(() => planLockstep([0, 1, 2], 1)).toThrow(/at least 2/);
  });
});

describe('LCM-distilled models', () => {
  /** diffusers' get_guidance_scale_embedding, written out again here: w · 1000 times 10000^(-i / (h - 1)). */
  function expectedEmbedding(guidance: number, dim: number): number[] {
    const half = dim / 2;
    const angles = Array.from({ length: half }, (_, i) => (guidance - 1) * 1000 * 10000 ** (-i / (half - 1)));
    return [...angles.map(Math.sin), ...angles.map(Math.cos)];
  }

  async function feedsOfRun(p: Pipeline, guidance: number): Promise<{ images: GeneratedImage[]; feeds: Record<string, Feed>[] }> {
    const feeds: Record<string, Feed>[] = [];
    const run = p.unet.model.run.bind(p.unet.model);
    p.unet.model.run = (f, outputs) => {
      feeds.push(f);
      return run(f, outputs);
    };
    try {
      const images = await collect(p, baseOptions(p, { guidance, steps: 2 }));
      return { images, feeds };
    } finally {
      p.unet.model.run = run;
    }
  }

  it('get the guidance scale as the timestep_cond embedding, on a batch without an unconditional half', async () => {
    const p = await pipeline('sd1_lcm');
    expect(p.unet.guidanceEmbedDim).toBe(16);
    const { images, feeds } = await feedsOfRun(p, 8.5);
    expect(feeds).toHaveLength(2);
    for (const f of feeds) {
      const sample = f.sample as FloatTensor;
      const cond = f.timestep_cond as FloatTensor;
      expect(sample.dims[0]).toBe(3);
      expect(cond.dims).toEqual([3, 16]);
      for (let row = 0; row < 3; row++) {
        const got = [...cond.data.subarray(row * 16, (row + 1) * 16)];
        got.forEach((v, i) => expect(v).toBeCloseTo(expectedEmbedding(8.5, 16)[i], 5));
      }
    }
    expect(images.every((image) => image.pixels.data.every(Number.isFinite))).toBe(true);

    // The scale reaches the model: another one makes other images from the same noise.
    const other = await feedsOfRun(p, 2);
    const expected = expectedEmbedding(2, 16);
    (other.feeds[0].timestep_cond as FloatTensor).data.subarray(0, 16).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    expect(maxAbsDiff(images[0].pixels.data, other.images[0].pixels.data)).toBeGreaterThan(1e-4);
  });
});

/**
 * The lockstep U-Net (a batch that holds the reference hands on its keys, values and statistics;
 * batches of targets only read them) against the one-batch U-Net on the same rows: the
 * independent reference is the one-batch model's own output for the whole set at once.
 */
import { REFERENCE_IMAGE_DEFAULTS, STYLE_ALIGNED_DEFAULTS } from '@styleset/protocol';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  referenceBatchFeeds,
  referenceOutputs,
  rewriteSharedUnet,
  sharingFeeds,
  targetBatchFeeds,
  type SharedUnetInfo,
  type SharingOptions,
} from '../packages/daemon/src/attention';
import { estimateHandedOnBytes } from '../packages/daemon/src/engine/batch-size';
import { readModelLayout } from '../packages/daemon/src/model/layout';
import { OnnxModel } from '../packages/daemon/src/model/onnx-session';
import { concatBatch, sliceBatch, type Feed, type FloatTensor } from '../packages/daemon/src/model/tensor';
import { readModel, writeModel } from '../packages/daemon/src/onnx';
import { relativeError, unetInputs } from './support/reference/tiny-unet';
import { generateTinyModel, type TinyModel, type TinyModelOptions } from './support/tiny-models';

const runtime = { provider: 'cpu' as const, threads: 1 };
const { negativePrompt: _, ...TEXT } = STYLE_ALIGNED_DEFAULTS;
const IMAGE = { ...TEXT, ...REFERENCE_IMAGE_DEFAULTS };

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lockstep-unet-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

interface Models {
  tiny: TinyModel;
  info: SharedUnetInfo;
  oneBatch: OnnxModel;
  lockstep: OnnxModel;
}

async function load(name: string, options: TinyModelOptions): Promise<Models> {
  const tiny = await generateTinyModel(join(root, name), options);
  const source = join(tiny.dir, 'unet', 'model.onnx');
  const proto = await readModel(source);
  const one = rewriteSharedUnet(proto, source);
  const step = rewriteSharedUnet(proto, source, { lockstep: true });
  await writeModel(join(tiny.dir, 'unet', 'one-batch.onnx'), one.model);
  await writeModel(join(tiny.dir, 'unet', 'lockstep.onnx'), step.model);
  return {
    tiny,
    info: one,
    oneBatch: await OnnxModel.load(join(tiny.dir, 'unet', 'one-batch.onnx'), runtime),
    lockstep: await OnnxModel.load(join(tiny.dir, 'unet', 'lockstep.onnx'), runtime),
  };
}

/** The U-Net inputs of images (seeds) in the CFG layout: [uncond..., cond...]; a half's row gets its own inputs. */
function inputs(tiny: TinyModel, images: readonly number[], guided: boolean): Record<string, Feed> {
  return unetInputs(tiny, guided ? [...images, ...images.map((seed) => seed + 100)] : [...images]);
}

/** Image rows [start, end) of an output in the CFG layout, both halves. */
function imageRows(t: FloatTensor, images: number, start: number, end: number, guided: boolean): FloatTensor {
  if (!guided) return sliceBatch(t, start, end);
  return concatBatch([sliceBatch(t, start, end), sliceBatch(t, images + start, images + end)]);
}

/**
 * A set of 5 images (the reference first) as one batch, and in lockstep as a batch of the
 * reference and 2 targets followed by a batch of 2 targets. `handOn` may alter what is handed on.
 */
async function compare(
  m: Models,
  options: SharingOptions,
  guided: boolean,
  handOn: (tensors: Record<string, FloatTensor>) => Record<string, FloatTensor> = (t) => t,
): Promise<{ first: number; second: number }> {
  const images = [1, 2, 3, 4, 5];
  const whole = await m.oneBatch.run({ ...inputs(m.tiny, images, guided), ...sharingFeeds(options, m.info, { images: 5, guided }) }, ['out_sample']);
  const fetch = ['out_sample', ...referenceOutputs(m.info)];
  const first = await m.lockstep.run({ ...inputs(m.tiny, images.slice(0, 3), guided), ...referenceBatchFeeds(options, m.info, { images: 3, guided }) }, fetch);
  const second = await m.lockstep.run(
    { ...inputs(m.tiny, images.slice(3), guided), ...targetBatchFeeds(options, m.info, { images: 2, guided }, handOn(first)) },
    ['out_sample'],
  );
  return {
    first: relativeError(first.out_sample.data, imageRows(whole.out_sample, 5, 0, 3, guided).data),
    second: relativeError(second.out_sample.data, imageRows(whole.out_sample, 5, 3, 5, guided).data),
  };
}

// float32: the two models compute the same rows with the same ops; 1e-4 leaves room for kernels
// that block another batch shape differently. float16 (run as exported): a few units in the last
// place of float16's 11 significant bits (2^-11, ~5e-4 relative).
const variants: { name: string; options: TinyModelOptions; bound: number }[] = [
  { name: 'sd1', options: { family: 'sd1' }, bound: 1e-4 },
  { name: 'sdxl', options: { family: 'sdxl' }, bound: 1e-4 },
  { name: 'sdxl-fp16', options: { family: 'sdxl', dtype: 'fp16' }, bound: 2e-3 },
];

describe.each(variants)('lockstep U-Net, $name', ({ name: variant, options: modelOptions, bound }) => {
  let m: Models;
  beforeAll(async () => {
    m = await load(`lockstep-${variant}`, modelOptions);
  });
  afterAll(async () => {
    await m.oneBatch.release();
    await m.lockstep.release();
  });

  const cases: { name: string; options: SharingOptions; guided: boolean }[] = [
    { name: 'text-reference defaults, guided', options: TEXT, guided: true },
    { name: 'reference-image defaults (shift ln 2, shared GroupNorm), guided', options: IMAGE, guided: true },
    { name: 'AdaIN on values, scale and shift, unguided', options: { ...TEXT, adainValues: true, sharedScoreScale: 1.3, sharedScoreShift: 0.6 }, guided: false },
    { name: 'AdaIN only, attention not shared', options: { ...TEXT, shareAttention: false, adainValues: true }, guided: true },
    { name: 'half the layers shared', options: { ...IMAGE, onlySelfLevel: 0.5 }, guided: true },
  ];
  for (const { name, options, guided } of cases) {
    it(`batches of targets only equal one batch: ${name}`, async () => {
      const { first, second } = await compare(m, options, guided);
      expect(first).toBeLessThan(bound);
      expect(second).toBeLessThan(bound);
    });
  }

  it("hands on the keys and values batch-size.ts counts: the U-Net config's self-attention activations, twice per row", async () => {
    const fetch = referenceOutputs(m.info);
    const out = await m.lockstep.run({ ...inputs(m.tiny, [1, 2], true), ...referenceBatchFeeds(TEXT, m.info, { images: 2, guided: true }) }, [...fetch, 'out_sample']);
    const [, , latentHeight, latentWidth] = out.out_sample.dims;
    const { unet } = await readModelLayout(m.tiny.dir);
    const keysAndValues = fetch.filter((name) => /_(key|value)_\d+_out$/.test(name));
    expect(keysAndValues).toHaveLength(2 * m.info.layerCount);
    // Counted as float32 (a float16 model's take half that).
    const handedOn = keysAndValues.reduce((bytes, name) => bytes + 4 * out[name].data.length, 0);
    expect(handedOn).toBe(estimateHandedOnBytes({ latentHeight, latentWidth, topChannels: unet.topChannels, selfAttentionActivations: unet.selfAttentionActivations }, 2));
  });

  it('hands on one row per CFG half, and nothing where sharing is off', async () => {
    const fetch = referenceOutputs(m.info);
    const on = await m.lockstep.run({ ...inputs(m.tiny, [1, 2], true), ...referenceBatchFeeds(IMAGE, m.info, { images: 2, guided: true }) }, fetch);
    for (const name of fetch) expect(on[name].dims[0], name).toBe(2);
    expect(fetch.filter((name) => name.includes('group_stats')).length).toBe(m.info.groupNormCount);
    const off = await m.lockstep.run({ ...inputs(m.tiny, [1, 2], true), ...referenceBatchFeeds({ ...TEXT, onlySelfLevel: 1 }, m.info, { images: 2, guided: true }) }, fetch);
    for (const name of fetch) expect(off[name].data.length, name).toBe(0);
  });

  it('exclusive sessions are held in turn and compute the same after each switch', async () => {
    const feeds = { ...inputs(m.tiny, [1, 2], true), ...sharingFeeds(TEXT, m.info, { images: 2, guided: true }) };
    const before = await m.oneBatch.run(feeds, ['out_sample']);
    m.oneBatch.exclusiveWith(m.lockstep);
    const lockstepFeeds = { ...inputs(m.tiny, [1, 2], true), ...referenceBatchFeeds(TEXT, m.info, { images: 2, guided: true }) };
    const first = await m.lockstep.run(lockstepFeeds, ['out_sample']);
    expect([m.oneBatch.held, m.lockstep.held]).toEqual([false, true]);
    const again = await m.oneBatch.run(feeds, ['out_sample']);
    expect([m.oneBatch.held, m.lockstep.held]).toEqual([true, false]);
    expect(relativeError(again.out_sample.data, before.out_sample.data)).toBe(0);
    const second = await m.lockstep.run(lockstepFeeds, ['out_sample']);
    expect([m.oneBatch.held, m.lockstep.held]).toEqual([false, true]);
    expect(relativeError(second.out_sample.data, first.out_sample.data)).toBe(0);
    expect(relativeError(first.out_sample.data, before.out_sample.data)).toBeLessThan(bound);
  });

  it('the targets depend on what is handed on (the comparison can fail)', async () => {
    // The halves' rows swapped: each half of the targets then reads the other half's reference.
    const swapped = (tensors: Record<string, FloatTensor>) =>
      Object.fromEntries(Object.entries(tensors).map(([name, t]) => [name, t.dims[0] === 2 ? concatBatch([sliceBatch(t, 1, 2), sliceBatch(t, 0, 1)]) : t]));
    expect((await compare(m, IMAGE, true, swapped)).second).toBeGreaterThan(10 * bound);
    // Only the statistics scaled: AdaIN's targets move.
    const stats = (tensors: Record<string, FloatTensor>) =>
      Object.fromEntries(Object.entries(tensors).map(([name, t]) => [name, name.includes('stats') ? { data: t.data.map((v) => v * 1.5), dims: t.dims } : t]));
    expect((await compare(m, TEXT, true, stats)).second).toBeGreaterThan(10 * bound);
  });
});

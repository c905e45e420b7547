import { readdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { STYLE_ALIGNED_DEFAULTS } from '@styleset/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareSharedUnet, sharingFeeds } from '../packages/daemon/src/attention';
import { loadForRuntime, upcastsFloat16 } from '../packages/daemon/src/model/float32-copy';
import { OnnxModel } from '../packages/daemon/src/model/onnx-session';
import { DataType, readModel, type ModelProto } from '../packages/daemon/src/onnx';
import { generateSet, type GenerateOptions, type GeneratedImage } from '../packages/daemon/src/pipeline/generate';
import { Pipeline } from '../packages/daemon/src/pipeline/pipeline';
import { float16RoundingExcess, float16Twin, roundedFloat32Model, roundFeedsToFloat16 } from './support/reference/float16-rounding';
import { randomFloats, unetInputs } from './support/reference/tiny-unet';
import { tinyModelSet } from './support/tiny-model-set';

const runtime = { provider: 'cpu' as const, threads: 1 };

// The same seed: the float16 export's weights are the float32 export's, rounded.
let set: Awaited<ReturnType<typeof tinyModelSet<'fp16' | 'fp32'>>>;
beforeAll(async () => {
  set = await tinyModelSet({ fp16: { family: 'sd1', dtype: 'fp16', weights: 'external' }, fp32: { family: 'sd1', weights: 'external' } });
});
afterAll(async () => {
  await set.dispose();
});

const component = (name: 'fp16' | 'fp32', folder: string) => join(set.models[name].dir, folder, 'model.onnx');

function float16Tensors(model: ModelProto): string[] {
  return model.graph!.initializer.filter((t) => t.dataType === DataType.FLOAT16).map((t) => t.name ?? '');
}

async function outputOf(path: string, feeds: Parameters<OnnxModel['run']>[0], output: string): Promise<Float32Array> {
  const model = await OnnxModel.load(path, runtime);
  try {
    return (await model.run(feeds, [output]))[output].data;
  } finally {
    await model.release();
  }
}

describe('float16 exports on the CPU provider', () => {
  it('get a shared U-Net that computes in float32 behind float16 inputs and outputs: the float32 export\'s arithmetic on the float16 export\'s numbers, within one float16 rounding', async () => {
    const cache = join(set.root, 'unet-cache');
    const prepared = await prepareSharedUnet(component('fp16', 'unet'), cache, { upcastFloat16: true });
    expect(prepared.upcast).toBe(true);
    expect(prepared.layerCount).toBe(4);
    // Its own converted weights, nothing linked from the export.
    expect((await readdir(dirname(prepared.path))).sort()).toEqual(['manifest.json', 'model.onnx', 'model.onnx.styleset_data']);
    const upcastModel = await readModel(prepared.path);
    const graph = upcastModel.graph!;
    expect(float16Tensors(upcastModel)).toEqual([]);
    expect(graph.input.find((i) => i.name === 'sample')?.type?.tensorType?.elemType).toBe(DataType.FLOAT16);
    expect(graph.output[0].type?.tensorType?.elemType).toBe(DataType.FLOAT16);

    const inputs = unetInputs(set.models.fp16, [1, 2]);
    const upcast = await outputOf(prepared.path, { ...inputs, ...sharingFeeds(null, prepared, { images: 2, guided: false }) }, 'out_sample');
    // What it should compute, written here without the upcast's code: the float32 export's
    // arithmetic on the float16 export's numbers (weights, constants, inputs), then one rounding
    // of the output to float16. Not "nearer the float32 export than the float16 export is": which
    // float16 kernels ONNX Runtime picks differs by CPU, and on an AVX2-only CPU the float16
    // export happens to land nearer.
    const rounded = join(set.root, 'rounded-unet', 'model.onnx');
    await roundedFloat32Model(component('fp32', 'unet'), component('fp16', 'unet'), rounded);
    const expected = await outputOf(rounded, roundFeedsToFloat16(inputs), 'out_sample');
    expect(float16RoundingExcess(upcast, expected)).toBeLessThanOrEqual(1);
    // The bound tells float16 weights from float32 ones: the float32 export is far outside it.
    expect(float16RoundingExcess(await outputOf(component('fp32', 'unet'), inputs, 'out_sample'), expected)).toBeGreaterThan(8);

    // A float32 export asked to upcast is rewritten as before: its weights linked, not copied.
    const plain = await prepareSharedUnet(component('fp32', 'unet'), cache, { upcastFloat16: true });
    expect(plain.upcast).toBe(false);
    expect((await stat(join(dirname(plain.path), 'model.onnx_data'))).ino).toBe((await stat(join(dirname(component('fp32', 'unet')), 'model.onnx_data'))).ino);
  });

  it('open other components on a float32 copy made once; float32 exports and other providers run as exported', async () => {
    const cache = join(set.root, 'component-cache');
    const latents = { data: randomFloats(4 * 8 * 8, 5), dims: [1, 4, 8, 8] };
    const rounded = join(set.root, 'rounded-vae-decoder', 'model.onnx');
    await roundedFloat32Model(component('fp32', 'vae_decoder'), component('fp16', 'vae_decoder'), rounded);
    const expected = await outputOf(rounded, roundFeedsToFloat16({ latent_sample: latents }), 'sample');

    const first = await loadForRuntime(component('fp16', 'vae_decoder'), runtime, cache);
    try {
      expect(dirname(dirname(first.path))).toBe(cache);
      expect(first.float16Io).toBe(true);
      expect(float16Tensors(await readModel(first.path))).toEqual([]);
      expect(float16RoundingExcess((await first.run({ latent_sample: latents }, ['sample'])).sample.data, expected)).toBeLessThanOrEqual(1);
    } finally {
      await first.release();
    }
    const written = (await stat(first.path)).mtimeMs;
    const second = await loadForRuntime(component('fp16', 'vae_decoder'), runtime, cache);
    await second.release();
    expect(second.path).toBe(first.path);
    expect((await stat(second.path)).mtimeMs).toBe(written);

    const entries = await readdir(cache);
    const asIs = await loadForRuntime(component('fp32', 'vae_decoder'), runtime, cache);
    await asIs.release();
    expect(asIs.path).toBe(component('fp32', 'vae_decoder'));
    expect(await readdir(cache)).toEqual(entries);
    // Without a cache folder there is nowhere to keep a copy: the export runs as it is.
    const uncached = await loadForRuntime(component('fp16', 'vae_decoder'), runtime, undefined);
    await uncached.release();
    expect(uncached.path).toBe(component('fp16', 'vae_decoder'));
    // Nor when the copy cannot be written (here the cache "folder" is a file): the export still runs.
    const blocked = join(set.root, 'not-a-folder');
    await writeFile(blocked, 'x');
    const fallback = await loadForRuntime(component('fp16', 'vae_decoder'), runtime, blocked);
    try {
      expect(fallback.path).toBe(component('fp16', 'vae_decoder'));
      expect((await fallback.run({ latent_sample: latents }, ['sample'])).sample.data.every(Number.isFinite)).toBe(true);
    } finally {
      await fallback.release();
    }
    // Nor when asked to keep float16 (--keep-float16), or on another provider.
    expect(upcastsFloat16({ provider: 'cpu', keepFloat16: true })).toBe(false);
    expect(upcastsFloat16({ provider: 'cuda' })).toBe(false);
    const kept = await loadForRuntime(component('fp16', 'vae_decoder'), { ...runtime, keepFloat16: true }, cache);
    await kept.release();
    expect(kept.path).toBe(component('fp16', 'vae_decoder'));
  });

  it('make the whole pipeline compute in float32: every session on the cache, the images the float32 export\'s arithmetic on the float16 export\'s numbers', async () => {
    const cacheDir = join(set.root, 'pipeline-cache');
    const fp16 = await Pipeline.load(set.models.fp16.dir, runtime, { cacheDir });
    const kept = await Pipeline.load(set.models.fp16.dir, { ...runtime, keepFloat16: true }, { cacheDir: join(set.root, 'kept-cache') });
    expect(kept.model.unet.float16Io).toBe(true);
    expect((await readModel(kept.model.unet.path)).graph!.initializer.some((t) => t.dataType === DataType.FLOAT16)).toBe(true);
    expect(kept.model.vaeDecoder.path).toBe(component('fp16', 'vae_decoder'));
    await kept.release();
    // The float32 export with every number rounded where the float16 export's is (weights,
    // constants, each component's inputs and outputs): the same float32 arithmetic on the same
    // numbers, so the same images up to the last rounding (of the decoder's output).
    const twinDir = join(set.root, 'float16-twin');
    await float16Twin(set.models.fp32.dir, set.models.fp16.dir, twinDir);
    const twin = await Pipeline.load(twinDir, runtime, { cacheDir });
    const fp32 = await Pipeline.load(set.models.fp32.dir, runtime, { cacheDir });
    try {
      for (const session of [...fp16.model.textEncoders, fp16.model.unet, fp16.model.vaeDecoder]) {
        expect(session.path.startsWith(cacheDir)).toBe(true);
      }
      const options = (p: Pipeline): GenerateOptions => ({
        prompts: ['a red star icon', 'a blue moon icon'],
        negativePrompt: '',
        steps: 3,
        guidance: 5,
        seed: 7,
        width: p.model.layout.nativeWidth,
        height: p.model.layout.nativeHeight,
        sampler: 'ddim',
        batchSize: 2,
        sharing: p.sharing(STYLE_ALIGNED_DEFAULTS),
      });
      const [a, expected, float32] = [await images(fp16, options(fp16)), await images(twin, options(twin)), await images(fp32, options(fp32))];
      for (const [i, image] of a.entries()) {
        expect(image.pixels.data.every(Number.isFinite)).toBe(true);
        expect(float16RoundingExcess(image.pixels.data, expected[i].pixels.data)).toBeLessThanOrEqual(1);
        // The bound tells float16 numbers from float32 ones.
        expect(float16RoundingExcess(float32[i].pixels.data, expected[i].pixels.data)).toBeGreaterThan(8);
      }
    } finally {
      await fp16.release();
      await twin.release();
      await fp32.release();
    }
  });
});

async function images(p: Pipeline, options: GenerateOptions): Promise<GeneratedImage[]> {
  const out: GeneratedImage[] = [];
  for await (const image of generateSet(p, options)) out.push(image);
  return out.sort((x, y) => x.index - y.index);
}

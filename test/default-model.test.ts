import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveOptions, STYLE_ALIGNED_DEFAULTS } from '@styleset/protocol';
import { defaultModelDir } from '../packages/daemon/src/model/default-model';
import type { EngineResult } from '../packages/daemon/src/engine/engine';
import { PipelineEngine } from '../packages/daemon/src/engine/pipeline-engine';
import { decodeImage } from '../packages/daemon/src/image/decode';
import { readModelLayout } from '../packages/daemon/src/model/layout';
import { generateSet, type GeneratedImage } from '../packages/daemon/src/pipeline/generate';
import { Pipeline } from '../packages/daemon/src/pipeline/pipeline';

let cacheDir: string;
let pipeline: Pipeline;

beforeAll(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'styleset-default-'));
  pipeline = await Pipeline.load(defaultModelDir(), { provider: 'cpu' }, { cacheDir });
});

afterAll(async () => {
  await pipeline?.release();
  await rm(cacheDir, { recursive: true, force: true });
});

describe('the embedded default model', () => {
  it('loads through the standard loader as an SD 1.x-layout export', async () => {
    const layout = await readModelLayout(defaultModelDir());
    expect(layout.family).toBe('sd1');
    expect([layout.nativeWidth, layout.nativeHeight]).toEqual([64, 64]);
    expect(layout.defaults.sampler).toBe('ddim');
    expect(layout.vaeEncoder).toBeDefined();
  });

  it('makes a shared-style set whose reference is unchanged by sharing', async () => {
    const { layout } = pipeline.model;
    const run = async (shared: boolean) => {
      const out: GeneratedImage[] = [];
      const options = {
        prompts: ['a star icon', 'a heart icon'],
        negativePrompt: '',
        steps: 8,
        guidance: 7.5,
        seed: 1,
        width: layout.nativeWidth,
        height: layout.nativeHeight,
        sampler: 'ddim' as const,
        batchSize: 2,
        sharing: pipeline.sharing(shared ? STYLE_ALIGNED_DEFAULTS : null),
      };
      for await (const image of generateSet(pipeline, options)) out.push(image);
      return out;
    };
    const [shared, plain] = [await run(true), await run(false)];
    expect(shared[0].pixels.dims).toEqual([1, 3, 64, 64]);
    expect(shared.every((i) => i.pixels.data.every(Number.isFinite))).toBe(true);
    const diff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
    expect(diff(shared[0].latents.data, plain[0].latents.data)).toBeLessThan(1e-4);
    expect(diff(shared[1].latents.data, plain[1].latents.data)).toBeGreaterThan(1e-2);
  });
});

describe('progress previews on the embedded model', () => {
  it('come every N steps as one strip of the batch, whose last one shows the finished images', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'styleset-preview-'));
    const engine = new PipelineEngine({ models: [{ id: 'default', dir: defaultModelDir() }], defaultModelId: 'default', runtime: { provider: 'cpu' }, dataDir });
    try {
      const [info] = await engine.listModels();
      const prompts = ['a red star icon', 'a blue moon icon', 'a green heart icon'];
      const options = { ...resolveOptions('set', info, { seed: 5, steps: 12, previewEvery: 4 }), model: 'default', seed: 5 };
      const previews: { step: number; png: Uint8Array }[] = [];
      const results: EngineResult[] = [];
      await engine.run(
        { kind: 'set', prompts, options },
        { onProgress: (p) => p.preview && previews.push({ step: p.step, png: p.preview }), onResult: async (r) => void results.push(r) },
        new AbortController().signal,
      );
      expect(previews.map((p) => p.step)).toEqual([4, 8, 12]);
      const strips = previews.map((p) => decodeImage(p.png, 'preview'));
      // One 64x64 tile per image of the batch (16x16 latents, 4x4 blocks), side by side.
      for (const strip of strips) expect([strip.width, strip.height]).toEqual([3 * 64, 64]);
      // At the last step the estimate is the result: each 4x4 block of the preview is that
      // block's mean colour in the decoded image, to within the fitted map's error.
      const last = strips.at(-1)!;
      let error = 0;
      let blocks = 0;
      for (const result of results) {
        const image = decodeImage(result.png, 'result');
        for (let by = 0; by < 16; by++) for (let bx = 0; bx < 16; bx++) for (let c = 0; c < 3; c++) {
          let sum = 0;
          for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) sum += image.data[((by * 4 + y) * 64 + bx * 4 + x) * image.channels + c];
          error += Math.abs(sum / 16 - last.data[((by * 4) * last.width + result.index * 64 + bx * 4) * last.channels + c]);
          blocks++;
        }
      }
      expect(error / blocks).toBeLessThan(8);
      // An early estimate is still far from it.
      expect(maxDifference(strips[0], last)).toBeGreaterThan(30);
    } finally {
      await engine.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

function maxDifference(a: { data: Uint8Array }, b: { data: Uint8Array }): number {
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}

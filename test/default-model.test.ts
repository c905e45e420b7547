import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STYLE_ALIGNED_DEFAULTS } from '@styleset/protocol';
import { defaultModelDir } from '../packages/daemon/src/cli/default-model';
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

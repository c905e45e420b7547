import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveOptions } from '@styleset/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineJob, EngineResult } from '../packages/daemon/src/engine/engine';
import { PipelineEngine } from '../packages/daemon/src/engine/pipeline-engine';
import type { RuntimeOptions } from '../packages/daemon/src/model/runtime';
import { generateTinyModel, type TinyModel } from './support/tiny-models';

let root: string;
let model: TinyModel;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'styleset-batch-size-'));
  model = await generateTinyModel(join(root, 'sd1'), { family: 'sd1' });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const prompts = ['a red star icon', 'a blue moon icon', 'a green house icon', 'a black cat icon', 'a white tree icon'];

async function runSet(runtime: Partial<RuntimeOptions>): Promise<{ batchSize?: number; indices: number[] }> {
  const dataDir = await mkdtemp(join(root, 'data-'));
  const engine = new PipelineEngine({ models: [{ id: 'sd1', dir: model.dir }], defaultModelId: 'sd1', runtime: { provider: 'cpu', threads: 1, ...runtime }, dataDir });
  try {
    const [info] = await engine.listModels();
    const job: EngineJob = { kind: 'set', prompts, options: { ...resolveOptions('set', info, { steps: 1, guidance: 7.5 }), model: 'sd1', seed: 5 } };
    const results: EngineResult[] = [];
    const outcome = await engine.run(job, { onProgress: () => {}, onResult: async (r) => void results.push(r) }, new AbortController().signal);
    return { batchSize: outcome.batchSize, indices: results.map((r) => r.index).sort((a, b) => a - b) };
  } finally {
    await engine.close();
  }
}

describe('the default batch size follows the memory the provider has', () => {
  it('fits the rows of as many images as the budget holds, computed from the U-Net config', async () => {
    const config = JSON.parse(await readFile(join(model.dir, 'unet', 'config.json'), 'utf8')) as { sample_size: number; block_out_channels: number[] };
    // One row: 56 float32 activations per top-level latent position and channel, plus 2 MiB; two rows per image (guidance).
    const rowBytes = 56 * config.sample_size ** 2 * config.block_out_channels[0] * 4 + 2 * 2 ** 20;
    const limitMiB = 14;
    const fits = Math.floor((limitMiB * 2 ** 20) / (2 * rowBytes));
    expect(fits).toBeGreaterThanOrEqual(2);
    expect(fits).toBeLessThan(prompts.length);
    const limited = await runSet({ memoryLimitMiB: limitMiB });
    expect(limited.batchSize).toBe(fits);
    expect(limited.indices).toEqual([0, 1, 2, 3, 4]);
    // A limit below one image's rows still gets the reference and one image per batch.
    expect((await runSet({ memoryLimitMiB: 1 })).batchSize).toBe(2);
    // The machine's own memory holds this tiny set whole.
    expect((await runSet({})).batchSize).toBe(prompts.length);
  });
});

import type { Phase } from '@styleset/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PhaseTimer } from '../packages/daemon/src/engine/phase-timer';
import { join } from 'node:path';
import { OnnxModel } from '../packages/daemon/src/model/onnx-session';
import { generateSet, type RunControl } from '../packages/daemon/src/pipeline/generate';
import { invertImage } from '../packages/daemon/src/pipeline/invert';
import { Pipeline } from '../packages/daemon/src/pipeline/pipeline';
import { tinyModelSet } from './support/tiny-model-set';

// Time here is a fake clock that moves only while a model runs, by a fixed cost per component,
// so each phase's total is known exactly: the phase timer must charge each call to the phase
// that made it, whatever the machine's speed.
const COST = { unet: 1000, vaeDecoder: 100, vaeEncoder: 10, textEncoder: 1 } as const;

let set: Awaited<ReturnType<typeof tinyModelSet<'sd1'>>>;
let pipeline: Pipeline;
let clock = 0;
const calls = { unet: 0, vaeDecoder: 0, vaeEncoder: 0, textEncoder: 0 };

/** Makes every run of `model` advance the fake clock by its component's cost, after the real work. */
function charge(model: OnnxModel, component: keyof typeof COST): void {
  const run = model.run.bind(model);
  model.run = async (...args) => {
    const out = await run(...args);
    clock += COST[component];
    calls[component] += 1;
    return out;
  };
}

beforeAll(async () => {
  set = await tinyModelSet({ sd1: { family: 'sd1' } });
  pipeline = await Pipeline.load(set.models.sd1.dir, { provider: 'cpu', threads: 1 }, { cacheDir: join(set.root, 'cache') });
  charge(pipeline.model.unet, 'unet');
  charge(pipeline.model.vaeDecoder, 'vaeDecoder');
  charge((await pipeline.model.vaeEncoder())!, 'vaeEncoder');
  for (const encoder of pipeline.model.textEncoders) charge(encoder, 'textEncoder');
});

afterAll(async () => {
  await pipeline?.release();
  await set?.dispose();
});

/** A control that times phases on the fake clock, as the engine does on the real one. */
function timed(): { control: RunControl; timer: PhaseTimer; phases: Phase[] } {
  const timer = new PhaseTimer(() => clock);
  const phases: Phase[] = [];
  return {
    timer,
    phases,
    control: {
      onProgress: ({ phase }) => {
        if (phases.at(-1) !== phase) phases.push(phase);
        timer.enter(phase);
      },
    },
  };
}

function resetCalls(): void {
  for (const key of Object.keys(calls) as (keyof typeof calls)[]) calls[key] = 0;
}

describe('phase timings', () => {
  const sharing = {
    shareAttention: true, adainQueries: true, adainKeys: true, adainValues: false, sharedScoreScale: 1, sharedScoreShift: 0,
    onlySelfLevel: 0, fullAttentionShare: false, shareGroupNorm: false, shareLayerNorm: false,
  };
  const setOptions = (shared: boolean) => {
    const { layout } = pipeline.model;
    return {
      prompts: ['a star', 'a moon', 'a house'],
      negativePrompt: '',
      steps: 3,
      guidance: 7.5,
      seed: 1,
      width: layout.nativeWidth,
      height: layout.nativeHeight,
      sampler: layout.defaults.sampler,
      // Two images per batch: two batches.
      batchSize: 2,
      sharing: pipeline.sharing(shared ? sharing : null),
    };
  };

  it('a plain set in two batches: every U-Net step is denoising, every decode decoding, the prompts encoding', async () => {
    resetCalls();
    const { control, timer, phases } = timed();
    for await (const image of generateSet(pipeline, setOptions(false), control)) expect(image.pixels.dims[0]).toBe(1);
    // Each batch is denoised, then decoded.
    expect(phases).toEqual(['encoding', 'denoising', 'decoding', 'denoising', 'decoding']);
    expect(calls.unet).toBe(2 * 3);
    expect(calls.vaeDecoder).toBe(3);
    expect(timer.finish()).toEqual({
      encoding: calls.textEncoder * COST.textEncoder,
      denoising: calls.unet * COST.unet,
      decoding: calls.vaeDecoder * COST.vaeDecoder,
    });
  });

  it('a shared set in two batches runs them in lockstep: every step of both is denoising, then every decode decoding', async () => {
    resetCalls();
    // The lockstep U-Net is a session of its own, loaded on first use: charge it when it runs.
    const run = OnnxModel.prototype.run;
    OnnxModel.prototype.run = async function (this: OnnxModel, ...args) {
      const out = await run.apply(this, args);
      if (this.path.includes('lockstep-unet')) {
        clock += COST.unet;
        calls.unet += 1;
      }
      return out;
    };
    const { control, timer, phases } = timed();
    try {
      for await (const image of generateSet(pipeline, setOptions(true), control)) expect(image.pixels.dims[0]).toBe(1);
    } finally {
      OnnxModel.prototype.run = run;
    }
    expect(phases).toEqual(['encoding', 'denoising', 'decoding']);
    // [star (the reference), moon], [house, filler], 3 steps each.
    expect(calls.unet).toBe(2 * 3);
    expect(calls.vaeDecoder).toBe(3);
    expect(timer.finish()).toEqual({
      encoding: calls.textEncoder * COST.textEncoder,
      denoising: calls.unet * COST.unet,
      decoding: calls.vaeDecoder * COST.vaeDecoder,
    });
  });

  it('an inversion: every U-Net step is inverting, the image and prompt encodes encoding', async () => {
    resetCalls();
    const { control, timer, phases } = timed();
    const { layout } = pipeline.model;
    const side = layout.nativeWidth;
    const image = { width: side, height: side, channels: 4 as const, data: new Uint8Array(side * side * 4).map((_, i) => (i * 37) % 256) };
    const trajectory = await invertImage(pipeline, { image, prompt: 'a star', steps: 4, guidance: 2, width: side, height: side }, control);
    expect(trajectory.dims[0]).toBe(5);
    expect(phases).toEqual(['encoding', 'inverting']);
    expect(calls.unet).toBe(4);
    expect(timer.finish()).toEqual({
      encoding: calls.vaeEncoder * COST.vaeEncoder + calls.textEncoder * COST.textEncoder,
      inverting: calls.unet * COST.unet,
    });
  });
});

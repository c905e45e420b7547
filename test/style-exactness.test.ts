/**
 * Extending a set in its style is exact even where the runtime rounds differently for another
 * batch shape. ONNX Runtime on this machine may well give a row the same bits in any batch; a CPU
 * whose kernels block the batch differently need not. So the U-Net and the text encoder are
 * wrapped here to add to every output a small term that depends on the batch's size and the row's
 * place in it, as such a CPU could: a continuation is exact only if each image runs in a batch of
 * the shape and at the row it had in its set, and each prompt is encoded on its own.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STYLE_ALIGNED_DEFAULTS } from '@styleset/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSet, type GenerateOptions, type GeneratedImage } from '../packages/daemon/src/pipeline/generate';
import { Pipeline } from '../packages/daemon/src/pipeline/pipeline';
import { UnetRunner } from '../packages/daemon/src/pipeline/unet';
import { tinyModelSet } from './support/tiny-model-set';

let set: Awaited<ReturnType<typeof tinyModelSet<'sd1'>>>;
let cacheDir: string;
let pipeline: Pipeline;
const originalPredictWith = UnetRunner.prototype.predictWith;

const prompts = Array.from({ length: 11 }, (_, i) => `icon number ${i}, flat`);

beforeAll(async () => {
  set = await tinyModelSet({ sd1: { family: 'sd1' } });
  cacheDir = await mkdtemp(join(tmpdir(), 'styleset-exact-'));
  pipeline = await Pipeline.load(set.models.sd1.dir, { provider: 'cpu', threads: 1 }, { cacheDir });
  // Every U-Net session of the pipeline (the one-batch and the lockstep one) goes through predictWith.
  const predictWith = originalPredictWith;
  UnetRunner.prototype.predictWith = async function (this: UnetRunner, call, height, width, outputs) {
    const result = await predictWith.call(this, call, height, width, outputs);
    const out = result.sample;
    const rows = out.dims[0];
    const per = out.data.length / rows;
    // Large enough to move the latents far past float32 noise, small enough to keep them sane.
    for (let row = 0; row < rows; row++) for (let k = 0; k < per; k++) out.data[row * per + k] += 1e-3 * (rows * 10 + row + 1);
    return result;
  };
  const encode = pipeline.conditioner.encode.bind(pipeline.conditioner);
  pipeline.conditioner.encode = async (texts) => {
    const c = await encode(texts);
    for (let i = 0; i < c.hidden.data.length; i++) c.hidden.data[i] += 1e-3 * texts.length;
    return c;
  };
});

afterAll(async () => {
  UnetRunner.prototype.predictWith = originalPredictWith;
  await pipeline?.release();
  await set.dispose();
  await rm(cacheDir, { recursive: true, force: true });
});

function options(overrides: Partial<GenerateOptions>): GenerateOptions {
  const { layout } = pipeline.model;
  return {
    prompts,
    negativePrompt: '',
    steps: 3,
    guidance: 7.5,
    seed: 21,
    width: layout.nativeWidth,
    height: layout.nativeHeight,
    sampler: 'ddim',
    batchSize: 6,
    sharing: pipeline.sharing({ ...STYLE_ALIGNED_DEFAULTS }),
    ...overrides,
  };
}

async function collect(o: GenerateOptions): Promise<GeneratedImage[]> {
  const out: GeneratedImage[] = [];
  for await (const image of generateSet(pipeline, o)) out.push(image);
  return out.sort((a, b) => a.index - b.index);
}

const sameBits = (a: GeneratedImage, b: GeneratedImage) => Buffer.compare(Buffer.from(a.pixels.data.buffer), Buffer.from(b.pixels.data.buffer)) === 0 && Buffer.compare(Buffer.from(a.latents.data.buffer), Buffer.from(b.latents.data.buffer)) === 0;

describe('a set continued in its style', () => {
  it('gives each image the bits it had in the set, though the runtime rounds by batch shape', async () => {
    // The set: the reference and 10 images in batches of 6 (the reference and 5 images each).
    const whole = await collect(options({}));
    expect(whole.map((image) => image.seed)).toEqual(prompts.map((_, i) => 21 + i));

    // Its style: the first prompt and seed, the batch size; new images placed by their index.
    const style = (first: number, some: string[], more: Partial<GenerateOptions> = {}) =>
      collect(options({ prompts: some, referencePrompt: prompts[0], firstIndex: first, chunkSize: 6, ...more }));
    const [seventh] = await style(7, [prompts[7]]);
    expect(seventh.seed).toBe(28);
    expect(sameBits(seventh, whole[7])).toBe(true);
    const [third, fourth] = await style(3, [prompts[3], prompts[4]]);
    expect(sameBits(third, whole[3]) && sameBits(fourth, whole[4])).toBe(true);
    const rest = await style(6, prompts.slice(6));
    rest.forEach((image, i) => expect(sameBits(image, whole[6 + i]), `image ${6 + i}`).toBe(true));

    // The control: in a batch of another shape the same image comes out otherwise, so the
    // equalities above are the layout's doing, not the runtime's indifference.
    const [reshaped] = await style(7, [prompts[7]], { chunkSize: 4 });
    expect(sameBits(reshaped, whole[7])).toBe(false);
    const [alone] = await collect(options({ prompts: [prompts[7]], referencePrompt: prompts[0], firstIndex: 7, chunkSize: undefined, batchSize: 2 }));
    expect(sameBits(alone, whole[7])).toBe(false);
  });

  it("gives a set's images the same bits whatever else the set holds", async () => {
    // Images 0..5 of a set of 6 in one batch of 6 are those of the set of 11 in batches of 6.
    const whole = await collect(options({}));
    const first = await collect(options({ prompts: prompts.slice(0, 6) }));
    first.forEach((image, i) => expect(sameBits(image, whole[i]), `image ${i}`).toBe(true));
  });
});

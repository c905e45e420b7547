import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STYLE_ALIGNED_DEFAULTS } from '@styleset/protocol';
import { pixelsToRgb } from '../packages/daemon/src/image/convert';
import { parseNpy, writeNpy } from '../packages/daemon/src/image/npy';
import { decodePng } from '../packages/daemon/src/image/png';
import { DEFAULT_DECODE_LIMITS } from '../packages/daemon/src/image/image8';
import type { FloatTensor } from '../packages/daemon/src/model/tensor';
import { generateSet, type GenerateOptions, type GeneratedImage } from '../packages/daemon/src/pipeline/generate';
import { Pipeline } from '../packages/daemon/src/pipeline/pipeline';
import { randomFloats, relativeError } from './support/reference/tiny-unet';
import { tinyModelSet } from './support/tiny-model-set';

const run = promisify(execFile);
const cli = join(import.meta.dirname, '..', 'packages', 'daemon', 'bin', 'styleset.js');

let set: Awaited<ReturnType<typeof tinyModelSet<'sd1' | 'sdxl'>>>;
let out: string;

beforeAll(async () => {
  set = await tinyModelSet({ sd1: { family: 'sd1' }, sdxl: { family: 'sdxl', weights: 'external' } });
  out = await mkdtemp(join(tmpdir(), 'styleset-cli-'));
});

afterAll(async () => {
  await set.dispose();
  await rm(out, { recursive: true, force: true });
});

async function styleset(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], { env: { ...process.env, STYLESET_DATA_DIR: join(out, 'data') } });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

/** Standard normal values (Box–Muller on the deterministic uniform stream). */
function gaussians(count: number, seed: number): Float32Array {
  const u = randomFloats(2 * count, seed).map((v) => (v + 1) / 2);
  return Float32Array.from({ length: count }, (_, i) => Math.sqrt(-2 * Math.log(1 - u[2 * i])) * Math.cos(2 * Math.PI * u[2 * i + 1]));
}

const concatRows = (rows: Float32Array[]) => Float32Array.from(rows.flatMap((row) => [...row]));

function maxByteDifference(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  return a.reduce((worst, v, i) => Math.max(worst, Math.abs(v - b[i])), 0);
}

describe('styleset generate', () => {
  it.each(['sd1', 'sdxl'] as const)('%s: writes one PNG per prompt, a record, and the final latents', async (name) => {
    const dir = join(out, name);
    const latents = join(dir, 'latents.npy');
    const args = ['generate', '--model', set.models[name].dir, '--no-share', '--steps', '3', '--seed', '42', '--out', dir, '--save-latents', latents, '--json', 'a star', 'a heart'];
    const first = await styleset(...args);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const record = JSON.parse(first.stdout);
    expect(record.images.map((i: { seed: number; prompt: string }) => [i.seed, i.prompt])).toEqual([[42, 'a star'], [43, 'a heart']]);
    // Chosen by the engine (no --batch-size): the tiny set fits one batch.
    expect(record.options.batchSize).toBe(2);
    expect((await readdir(dir)).sort()).toEqual(['01-a-star.png', '02-a-heart.png', 'latents.npy', 'set.json']);
    const png = decodePng(await readFile(join(dir, '01-a-star.png')), 'out', DEFAULT_DECODE_LIMITS);
    expect([png.width, png.height]).toEqual([record.options.width, record.options.height]);
    const saved = parseNpy(await readFile(latents), latents);
    expect(saved.dims[0]).toBe(2);

    // Same seed, same bytes: the run is reproducible end to end.
    const pngBefore = await readFile(join(dir, '02-a-heart.png'));
    expect((await styleset(...args)).code).toBe(0);
    expect(Buffer.compare(pngBefore, await readFile(join(dir, '02-a-heart.png')))).toBe(0);
  });

  it('starts from --init-latents: row i of the file is image i\'s start, exactly as the pipeline run in-process from them', async () => {
    const model = set.models.sd1;
    const [channels, side] = [4, model.dims.unet.sampleSize];
    const perImage = channels * side * side;
    // Gaussian rows, as the sampler's own start would be; B is A with its rows swapped.
    const a: FloatTensor = { data: gaussians(2 * perImage, 11), dims: [2, channels, side, side] };
    const b: FloatTensor = { data: new Float32Array([...a.data.subarray(perImage), ...a.data.subarray(0, perImage)]), dims: a.dims };
    const dir = join(out, 'init');
    await mkdir(dir, { recursive: true });
    const cliRun = async (name: string, init: FloatTensor) => {
      await writeNpy(join(dir, `${name}-init.npy`), init);
      const args = ['generate', '--model', model.dir, '--steps', '2', '--seed', '99', '--batch-size', '2', '--out', join(dir, name), '--json'];
      const result = await styleset(...args, '--init-latents', join(dir, `${name}-init.npy`), '--save-latents', join(dir, `${name}-final.npy`), 'a star', 'a heart');
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const record = JSON.parse(result.stdout);
      const pngs = await Promise.all(record.images.map(async (image: { file: string }) => decodePng(await readFile(image.file), image.file, DEFAULT_DECODE_LIMITS)));
      return { record, pngs, latents: parseNpy(await readFile(join(dir, `${name}-final.npy`)), 'final latents') };
    };
    const fromA = await cliRun('a', a);
    const fromB = await cliRun('b', b);

    // The same set in this process, through generateSet rather than the CLI and its engine, from
    // the tensors themselves rather than the files.
    const pipeline = await Pipeline.load(model.dir, { provider: 'cpu' }, { cacheDir: join(out, 'in-process-cache') });
    try {
      for (const [cli, init] of [[fromA, a], [fromB, b]] as const) {
        const o = cli.record.options;
        const options: GenerateOptions = {
          prompts: ['a star', 'a heart'],
          negativePrompt: o.negativePrompt,
          steps: 2,
          guidance: o.guidance,
          seed: 99,
          width: o.width,
          height: o.height,
          sampler: o.scheduler,
          batchSize: 2,
          initLatents: init,
          sharing: pipeline.sharing(STYLE_ALIGNED_DEFAULTS),
        };
        expect(o).toMatchObject({ steps: 2, seed: 99, batchSize: 2, shareAttention: true });
        const images: GeneratedImage[] = [];
        for await (const image of generateSet(pipeline, options)) images.push(image);
        images.sort((x, y) => x.index - y.index);
        // Two processes, the same machine and code: the same float32 arithmetic, up to ONNX
        // Runtime's thread split (1e-5 of the scale is ~100 float32 ulps); a start from other
        // latents lands orders of magnitude away (checked below).
        expect(cli.latents.dims).toEqual([2, channels, side, side]);
        expect(relativeError(cli.latents.data, concatRows(images.map((i) => i.latents.data)))).toBeLessThan(1e-5);
        images.forEach((image, i) => expect(maxByteDifference(cli.pngs[i].data, pixelsToRgb(image.pixels).data), `image ${i}`).toBeLessThanOrEqual(1));
      }
    } finally {
      await pipeline.release();
    }
    // Other starting latents, another set: the file is what the images come from.
    expect(relativeError(fromB.latents.data, fromA.latents.data)).toBeGreaterThan(0.1);
    expect(maxByteDifference(fromB.pngs[0].data, fromA.pngs[0].data)).toBeGreaterThan(8);
  });

  it('explains bad input and exits non-zero', async () => {
    const badSteps = await styleset('generate', '--model', set.models.sd1.dir, '--steps', 'many', 'a star');
    expect(badSteps.code).not.toBe(0);
    expect(badSteps.stderr).toMatch(/--steps <n>.*expected an integer from 1 to 200, got "many"/);
    const noModel = await styleset('generate', '--model', join(out, 'missing'), 'a star');
    expect(noModel.code).toBe(2);
    expect(noModel.stderr).toMatch(/missing is not a folder/);
    const noPrompt = await styleset('generate', '--model', set.models.sd1.dir);
    expect(noPrompt.code).not.toBe(0);
    expect(noPrompt.stderr).toMatch(/missing required argument 'prompts'/);
  });

  it('documents every option in --help', async () => {
    const help = await styleset('generate', '--help');
    for (const flag of ['--model', '--steps', '--guidance', '--seed', '--out', '--init-latents', '--save-latents', '--no-share', '--provider', '--batch-size']) {
      expect(help.stdout).toContain(flag);
    }
  });
});

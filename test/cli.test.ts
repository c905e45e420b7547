import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNpy } from '../packages/daemon/src/image/npy';
import { decodePng } from '../packages/daemon/src/image/png';
import { DEFAULT_DECODE_LIMITS } from '../packages/daemon/src/image/image8';
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

  it("reads initial latents from .npy (here another run's final latents)", async () => {
    const dir = join(out, 'init');
    const first = await styleset('generate', '--model', set.models.sd1.dir, '--no-share', '--steps', '2', '--seed', '5', '--out', dir, '--save-latents', join(dir, 'a.npy'), 'a star');
    expect(first.code).toBe(0);
    const again = await styleset('generate', '--model', set.models.sd1.dir, '--no-share', '--steps', '2', '--seed', '99', '--out', dir, '--init-latents', join(dir, 'a.npy'), '--save-latents', join(dir, 'b.npy'), 'a star');
    expect(again.code).toBe(0);
    const a = parseNpy(await readFile(join(dir, 'a.npy')), 'a');
    const b = parseNpy(await readFile(join(dir, 'b.npy')), 'b');
    // Starting from a finished latent is not starting from noise: the results must differ.
    expect(b.dims).toEqual(a.dims);
    expect(a.data.some((v, i) => Math.abs(v - b.data[i]) > 1e-4)).toBe(true);
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

import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { randomInt } from 'node:crypto';
import type { Command } from 'commander';
import { Option } from 'commander';
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '../../model/runtime';
import type { SamplerKind } from '../../scheduler/config';
import { generateSet, type GenerateOptions } from '../../pipeline/generate';
import { Pipeline } from '../../pipeline/pipeline';
import { pixelsToRgb } from '../../image/convert';
import { encodePng } from '../../image/png';
import { readNpy, writeNpy } from '../../image/npy';
import { concatBatch } from '../../model/tensor';
import { decimal, integer, oneOf } from '../arguments';
import { defaultModelDir } from '../default-model';
import { TerminalProgress } from '../progress';

interface GenerateFlags {
  model?: string;
  out: string;
  steps?: number;
  guidance?: number;
  seed?: number;
  width?: number;
  height?: number;
  negative: string;
  sampler?: SamplerKind;
  batchSize?: number;
  initLatents?: string;
  saveLatents?: string;
  share: boolean;
  provider: ExecutionProvider;
  threads?: number;
  json: boolean;
  progress: boolean;
}

const SAMPLERS = ['ddim', 'euler_ancestral', 'lcm'] as const;

export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description('generate one image per prompt, all in one shared style (prompt 1 is the style reference)')
    .argument('<prompts...>', 'one prompt per image; quote prompts with spaces')
    .option('-m, --model <dir>', 'model folder in the diffusers/Optimum ONNX layout (default: the embedded icon model)')
    .option('-o, --out <dir>', 'output folder for the PNGs and set.json', 'styleset-output')
    .option('--steps <n>', 'denoising steps (default: the model\'s)', integer(1, 200))
    .option('--guidance <g>', 'classifier-free guidance scale; <= 1 disables the unconditional pass (default: the model\'s)', decimal(0, 50))
    .option('--seed <n>', 'seed of image 1; image i uses seed + i - 1 (default: random, reported)', integer(0, 2 ** 32 - 1))
    .option('--width <px>', 'image width (default: the model\'s native size)', integer(8, 4096))
    .option('--height <px>', 'image height (default: the model\'s native size)', integer(8, 4096))
    .option('--negative <text>', 'negative prompt', '')
    .addOption(new Option('--sampler <kind>', 'sampler (default: the model\'s: ddim, or the distilled sampler of turbo/LCM models)').argParser(oneOf(SAMPLERS)))
    .option('--batch-size <n>', 'images per U-Net batch, reference included (default: from the model size)', integer(1, 64))
    .option('--init-latents <file.npy>', 'initial latents, float32 NCHW, one row per prompt')
    .option('--save-latents <file.npy>', 'write the final latents (float32 NCHW, before VAE scaling is undone)')
    .option('--no-share', 'plain generation: no shared attention between the images')
    .addOption(new Option('--provider <name>', 'ONNX Runtime execution provider').choices(EXECUTION_PROVIDERS).default('cpu'))
    .option('--threads <n>', 'ONNX Runtime intra-op threads (default: one per core)', integer(1, 256))
    .option('--json', 'print a JSON record of the set on stdout instead of a summary', false)
    .option('--no-progress', 'no progress bars')
    .action(async (prompts: string[], flags: GenerateFlags) => {
      await runGenerate(prompts, flags);
    });
}

async function runGenerate(prompts: string[], flags: GenerateFlags): Promise<void> {
  const started = performance.now();
  const modelDir = resolve(flags.model ?? defaultModelDir());
  const progress = new TerminalProgress(flags.progress && !flags.json && process.stderr.isTTY === true);
  progress.update({ phase: 'loading', step: 0, total: 1 });
  const pipeline = await Pipeline.load(modelDir, { provider: flags.provider, threads: flags.threads });
  progress.update({ phase: 'loading', step: 1, total: 1 });
  const loadedMs = performance.now() - started;
  const { layout } = pipeline.model;

  const options: GenerateOptions = {
    prompts,
    negativePrompt: flags.negative,
    steps: flags.steps ?? layout.defaults.steps,
    guidance: flags.guidance ?? layout.defaults.guidance,
    seed: flags.seed ?? randomInt(0, 2 ** 31),
    width: flags.width ?? layout.nativeWidth,
    height: flags.height ?? layout.nativeHeight,
    sampler: flags.sampler ?? layout.defaults.sampler,
    batchSize: flags.batchSize ?? defaultBatchSize(layout.nativeWidth * layout.nativeHeight, prompts.length),
    initLatents: flags.initLatents ? await readNpy(resolve(flags.initLatents)) : undefined,
  };

  const outDir = resolve(flags.out);
  await mkdir(outDir, { recursive: true });
  const images: { index: number; prompt: string; seed: number; file: string }[] = [];
  const latents: { index: number; data: ReturnType<typeof concatBatch> }[] = [];
  for await (const image of generateSet(pipeline, options, { onProgress: (e) => progress.update(e) })) {
    const file = join(outDir, `${String(image.index + 1).padStart(2, '0')}-${slug(image.prompt)}.png`);
    const rgb = pixelsToRgb(image.pixels);
    await writeFile(file, encodePng(rgb));
    images.push({ index: image.index, prompt: image.prompt, seed: image.seed, file });
    latents.push({ index: image.index, data: image.latents });
  }
  progress.stop();
  await pipeline.release();

  if (flags.saveLatents) {
    latents.sort((a, b) => a.index - b.index);
    await writeNpy(resolve(flags.saveLatents), concatBatch(latents.map((l) => l.data)));
  }
  const record = {
    model: modelDir,
    family: layout.family,
    shared: false,
    options: { ...options, initLatents: flags.initLatents ?? null },
    images: images.sort((a, b) => a.index - b.index),
    timings: { loadMs: Math.round(loadedMs), totalMs: Math.round(performance.now() - started) },
  };
  await writeFile(join(outDir, 'set.json'), JSON.stringify(record, null, 2) + '\n');
  if (flags.json) {
    process.stdout.write(JSON.stringify(record) + '\n');
  } else {
    for (const img of record.images) process.stdout.write(`${img.file}  (seed ${img.seed})\n`);
    process.stdout.write(`${images.length} images in ${(record.timings.totalMs / 1000).toFixed(1)} s; record: ${join(outDir, 'set.json')}\n`);
  }
}

/** A U-Net batch of ~1M latent-pixel-images is where CPU throughput stops improving. */
function defaultBatchSize(pixels: number, count: number): number {
  const bySize = Math.max(2, Math.floor((8 * 256 * 256) / pixels));
  return Math.min(count, bySize);
}

function slug(prompt: string): string {
  return prompt.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'image';
}

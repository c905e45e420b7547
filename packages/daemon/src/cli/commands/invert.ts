import { copyFile, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { resolveOptions } from '@styleset/protocol';
import { InputError } from '../../errors';
import { parseGuidance, parseImageSide, parseSteps } from '../arguments';
import { addLocalEngineOptions, openLocalEngine, type LocalEngineFlags } from '../local-engine';
import { TerminalProgress } from '../progress';

interface InvertFlags extends LocalEngineFlags {
  prompt: string;
  out?: string;
  steps?: number;
  guidance?: number;
  width?: number;
  height?: number;
  json: boolean;
  progress: boolean;
}

export function registerInvert(program: Command): void {
  const command = program
    .command('invert')
    .description("DDIM-invert a reference image once; `generate --ref-image` with the same image, prompt and settings then reuses it")
    .argument('<image>', 'PNG or JPEG')
    .requiredOption('--prompt <text>', 'describes the image (conditions the inversion)')
    .option('-o, --out <file.npy>', 'also write the trajectory here: float32 [steps + 1, C, h, w], entry 0 the noisiest')
    .option('--steps <n>', 'DDIM steps; must match the later generate (default: 50)', parseSteps)
    .option('--guidance <g>', 'guidance while inverting (default: 2)', parseGuidance)
    .option('--width <px>', "size the image is resized to (default: the model's native size)", parseImageSide)
    .option('--height <px>', "(default: the model's native size)", parseImageSide);
  addLocalEngineOptions(command)
    .option('--json', 'print a JSON record on stdout', false)
    .option('--no-progress', 'no progress bars')
    .action(async (image: string, flags: InvertFlags) => {
      await runInvert(image, flags);
    });
}

async function runInvert(imagePath: string, flags: InvertFlags): Promise<void> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(resolve(imagePath));
  } catch (err) {
    throw new InputError(`${imagePath}: cannot read the image (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
  }
  const progress = new TerminalProgress(flags.progress && !flags.json && process.stderr.isTTY === true);
  const { engine, model } = await openLocalEngine(flags);
  try {
    const resolved = resolveOptions('inversion', model, { steps: flags.steps, inversionGuidance: flags.guidance });
    if (flags.width !== undefined) resolved.width = flags.width;
    if (flags.height !== undefined) resolved.height = flags.height;
    const started = performance.now();
    const outcome = await engine.run(
      { kind: 'inversion', prompts: [], referencePrompt: flags.prompt, referenceImage: bytes, options: { ...resolved, model: model.id, seed: 0 } },
      { onProgress: (p) => progress.update(p), onResult: async () => {} },
      new AbortController().signal,
    );
    progress.stop();
    const stored = engine.trajectoryFile(outcome.trajectoryKey!);
    if (flags.out) await copyFile(stored, resolve(flags.out));
    const record = {
      trajectoryKey: outcome.trajectoryKey,
      file: flags.out ? resolve(flags.out) : stored,
      cached: stored,
      steps: resolved.steps,
      guidance: resolved.inversionGuidance,
      width: resolved.width,
      height: resolved.height,
      ms: Math.round(performance.now() - started),
    };
    process.stdout.write(flags.json ? JSON.stringify(record) + '\n' : `trajectory ${record.trajectoryKey} (${record.steps} steps) in ${(record.ms / 1000).toFixed(1)} s: ${record.file}\n`);
  } finally {
    progress.stop();
    await engine.close();
  }
}

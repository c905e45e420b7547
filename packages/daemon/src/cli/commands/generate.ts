import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { randomInt } from 'node:crypto';
import { Option, type Command } from 'commander';
import {
  LIMITS,
  OUTPUT_FORMATS,
  STYLE_LIMITS,
  referenceOptionsSchema,
  resolveOptions,
  setOptionsSchema,
  type JobOptions,
  type ReferenceOptions,
} from '@styleset/protocol';
import type { EngineJob, EngineOutcome, EngineVectorSet } from '../../engine/engine';
import { needsVector } from '../../engine/vector-stage';
import { InputError } from '../../errors';
import { readNpy, writeNpy } from '../../image/npy';
import { concatBatch, type FloatTensor } from '../../model/tensor';
import { resolveDirs } from '../../config/paths';
import { modelUnetSha256, StyleStore, styleJob } from '../../styles';
import { boolean, decimal, integer, oneOf, parseGuidance, parseImageSide, parseSteps } from '../arguments';
import { addLocalEngineOptions, openLocalEngine, type LocalEngineFlags } from '../local-engine';
import { TerminalProgress } from '../progress';
import { writeVectorOutputs, type SetVectorRecord, type VectorFlags, type WrittenImage } from '../vector-output';

interface GenerateFlags extends LocalEngineFlags, VectorFlags {
  out: string;
  steps?: number;
  guidance?: number;
  seed?: number;
  width?: number;
  height?: number;
  negative?: string;
  scheduler?: JobOptions['scheduler'];
  batchSize?: number;
  initLatents?: string;
  saveLatents?: string;
  share: boolean;
  refImage?: string;
  refPrompt?: string;
  style?: string;
  firstIndex?: number;
  inversionGuidance?: number;
  inversionOffset?: number;
  shareAttention?: boolean;
  adainQueries?: boolean;
  adainKeys?: boolean;
  adainValues?: boolean;
  sharedScoreScale?: number;
  sharedScoreShift?: number;
  onlySelfLevel?: number;
  fullAttentionShare?: boolean;
  shareGroupNorm?: boolean;
  shareLayerNorm?: boolean;
  json: boolean;
  progress: boolean;
}

/**
 * StyleAligned's options under the reference implementation's names (kebab-cased); the defaults
 * are the reference implementation's, under what the model's folder recommends (layout.ts).
 */
const STYLE_FLAGS = [
  ['share-attention', 'shareAttention', 'images attend to the reference (steps 2-3 of the method)', 'true'],
  ['adain-queries', 'adainQueries', "AdaIN of the queries to the reference's statistics", 'true'],
  ['adain-keys', 'adainKeys', "AdaIN of the keys to the reference's statistics", 'true'],
  ['adain-values', 'adainValues', "AdaIN of the values to the reference's statistics", 'false'],
  ['full-attention-share', 'fullAttentionShare', 'every image attends to every image of the set (more consistency, content leaks)', 'false'],
  ['share-group-norm', 'shareGroupNorm', "GroupNorm statistics over the image's and the reference's positions together", "false, or what the model's styleset.json recommends (the embedded model: true); reference image: true"],
  ['share-layer-norm', 'shareLayerNorm', 'accepted for parity with the reference implementation; changes nothing (LayerNorm statistics are per token)', 'false; reference image: true'],
] as const;

export function registerGenerate(program: Command): void {
  const command = program
    .command('generate')
    .description('generate one image per prompt, all in one shared style: the first prompt, or --ref-image, sets the style')
    .argument('<prompts...>', 'one prompt per image; quote prompts with spaces')
    .option('-o, --out <dir>', 'output folder for the PNGs and set.json', 'styleset-output')
    .option('--steps <n>', "denoising steps (default: the model's; 50 with --ref-image)", parseSteps)
    .option('--guidance <g>', "classifier-free guidance; <= 1 skips the unconditional pass (default: the model's, or what its styleset.json recommends (the embedded model: 4); with --ref-image 10 unless the model recommends one)", parseGuidance)
    .option('--seed <n>', 'seed of the first image; image i uses seed + i (default: random, reported)', integer(LIMITS.seed.min, LIMITS.seed.max))
    .option('--width <px>', "image width (default: the model's native size)", parseImageSide)
    .option('--height <px>', "image height (default: the model's native size)", parseImageSide)
    .option('--negative <text>', 'negative prompt (default: empty)')
    .addOption(new Option('--scheduler <kind>', "sampler (default: the model's: ddim, or the distilled sampler of turbo/LCM models)").argParser(oneOf(['ddim', 'euler_ancestral', 'lcm'] as const)))
    .option('--batch-size <n>', 'images per U-Net batch, the reference included; larger sets run in chunks that all carry the reference (default: as many as half the available memory holds, up to 17; see --memory-limit)', integer(1, LIMITS.batchSize.max))
    .option('--init-latents <file.npy>', 'initial latents, float32 NCHW, one row per prompt')
    .option('--save-latents <file.npy>', 'write the final latents (float32 NCHW, before VAE scaling is undone)')
    .option('--no-share', 'plain generation: no shared attention between the images')
    .option('--ref-image <file>', 'PNG or JPEG whose style the set takes (DDIM-inverted once, then reused from the data folder)')
    .option('--ref-prompt <text>', 'describes --ref-image (required with it)')
    .option('--style <name>', 'a saved style (`styleset style list`): its reference leads every batch and its model and options apply (flags change the others); every prompt is a new image in it')
    .option('--first-index <n>', "with --style: the first prompt's index in the style's set; image i gets the style's seed + i and its place in the set's batches, so it is exactly what it was, or would have been, in that set (default: after that set)", integer(0, STYLE_LIMITS.maxIndex))
    .option('--inversion-guidance <g>', 'guidance while inverting --ref-image (default: 2)', parseGuidance)
    .option('--inversion-offset <n>', 'trajectory entry the reference starts from, 0 = noisiest (default: 5)', integer(0, LIMITS.steps.max - 1))
    .addOption(new Option('--format <kind>', 'png, svg (traced, next to where the PNGs go) or both').argParser(oneOf(OUTPUT_FORMATS)).default('png'))
    .addOption(new Option('--background <mode>', 'keep the background the model drew, or make it transparent (PNG alpha; no background shape in SVGs)').argParser(oneOf(['keep', 'transparent'] as const)).default('keep'))
    .addOption(new Option('--palette <scope>', 'SVG fills from one palette for the whole set, or one palette per image').argParser(oneOf(['set', 'image'] as const)).default('set'));
  for (const [flag, , what, fallback] of STYLE_FLAGS) {
    command.option(`--${flag} <bool>`, `${what} (default: ${fallback})`, boolean);
  }
  command
    .option('--shared-score-scale <s>', "scales the reference's keys for the other images (default: 1)", decimal(LIMITS.sharedScoreScale.min, LIMITS.sharedScoreScale.max))
    .option('--shared-score-shift <s>', "added to the logits of the reference's columns; higher follows the reference more (default: 0, or what the model's styleset.json recommends (the embedded model: ln 2); reference image: ln 2)", decimal(LIMITS.sharedScoreShift.min, LIMITS.sharedScoreShift.max))
    .option('--only-self-level <l>', 'fraction of self-attention layers left plain, 0 shares every layer (default: 0)', decimal(0, 1));
  addLocalEngineOptions(command);
  command
    .option('--json', 'print a JSON record of the set on stdout instead of a summary', false)
    .option('--no-progress', 'no progress bars')
    .action(async (prompts: string[], flags: GenerateFlags) => {
      await runGenerate(prompts, flags);
    });
}

/** The options the user set, in the protocol's names, validated by the protocol's own schema. */
function givenOptions(flags: GenerateFlags, withReference: boolean): ReferenceOptions {
  const given: ReferenceOptions = {
    steps: flags.steps,
    guidance: flags.guidance,
    seed: flags.seed,
    negativePrompt: flags.negative,
    scheduler: flags.scheduler,
    inversionGuidance: flags.inversionGuidance,
    inversionOffset: flags.inversionOffset,
    sharedScoreScale: flags.sharedScoreScale,
    sharedScoreShift: flags.sharedScoreShift,
    onlySelfLevel: flags.onlySelfLevel,
    format: flags.format,
    background: flags.background,
    palette: flags.palette,
  };
  for (const [, key] of STYLE_FLAGS) given[key] = flags[key];
  if (!flags.share) given.shareAttention = false;
  const defined = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  const parsed = (withReference ? referenceOptionsSchema : setOptionsSchema).safeParse(defined);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue.code === 'unrecognized_keys' ? issue.keys[0] : String(issue.path[0]);
    const flag = `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    throw new InputError(issue.code === 'unrecognized_keys' ? `${flag} only applies with --ref-image` : `${flag}: ${issue.message}`);
  }
  return defined as ReferenceOptions;
}

async function runGenerate(prompts: string[], flags: GenerateFlags): Promise<void> {
  const started = performance.now();
  if (flags.refImage !== undefined && flags.refPrompt === undefined) throw new InputError('--ref-image needs --ref-prompt, a description of the image');
  if (flags.refImage === undefined && flags.refPrompt !== undefined) throw new InputError('--ref-prompt describes --ref-image; give the image too');
  if (flags.style !== undefined && (flags.refImage !== undefined || flags.initLatents !== undefined)) {
    throw new InputError(`--style brings its own reference; it does not go with ${flags.refImage !== undefined ? '--ref-image' : '--init-latents'}`);
  }
  if (flags.style === undefined && flags.firstIndex !== undefined) throw new InputError("--first-index places the prompts in a style's set; give --style");
  const kind = flags.refImage !== undefined ? 'reference' : 'set';
  const given = givenOptions(flags, kind === 'reference');
  const refImage = flags.refImage !== undefined ? await readInput(flags.refImage, 'the reference image') : undefined;
  const initLatents = flags.initLatents ? await readNpy(resolve(flags.initLatents)) : undefined;

  const progress = new TerminalProgress(flags.progress && !flags.json && process.stderr.isTTY === true);
  // The engine removes backgrounds and makes the SVGs (as in the daemon); this writes them.
  const vector = needsVector(flags);
  const styles = flags.style === undefined ? undefined : new StyleStore(resolveDirs({ dataDir: flags.dataDir }).dataDir, (message) => process.stderr.write(`styleset: warning: ${message}\n`));
  const style = flags.style === undefined ? undefined : await styles!.get(flags.style);
  const { engine, model, dataDir } = await openLocalEngine({ ...flags, model: flags.model ?? style?.manifest.model.id }).catch((error: unknown) => {
    if (style === undefined || flags.model !== undefined) throw error;
    throw new InputError(`style ${style.manifest.name} belongs to model ${style.manifest.model.id}, which is not here (${(error as Error).message}); install it, or give --model with a model of the same U-Net`);
  });
  try {
    let job: EngineJob;
    let afterRun: (outcome: EngineOutcome) => Promise<void> = async () => {};
    if (style !== undefined) {
      if (flags.width !== undefined) given.width = flags.width;
      if (flags.height !== undefined) given.height = flags.height;
      const { sha256 } = await modelUnetSha256(dataDir, model.path!);
      ({ job, afterRun } = await styleJob(styles!, style, { prompts, firstIndex: flags.firstIndex, options: { ...given, batchSize: flags.batchSize }, randomSeed: randomInt(LIMITS.seed.max + 1) }, model, sha256));
    } else {
      const resolved = resolveOptions(kind, model, given);
      // Sizes come from the model unless given: the daemon's own checks apply beyond the protocol's.
      if (flags.width !== undefined) resolved.width = flags.width;
      if (flags.height !== undefined) resolved.height = flags.height;
      job = {
        kind,
        prompts,
        referencePrompt: flags.refPrompt,
        referenceImage: refImage,
        options: { ...resolved, batchSize: flags.batchSize, model: model.id, seed: given.seed ?? randomInt(LIMITS.seed.max + 1) },
        initLatents,
      };
    }
    // Files are numbered by the image's place in its set: a style's new images follow its set's.
    const setIndex = (index: number) => (job.firstIndex ?? 0) + index;

    const outDir = resolve(flags.out);
    await mkdir(outDir, { recursive: true });
    const images: { index: number; setIndex?: number; prompt: string; seed: number; file: string }[] = [];
    const pngs: WrittenImage[] = [];
    let svgs: EngineVectorSet | undefined;
    const latents: { index: number; tensor: FloatTensor }[] = [];
    const controller = new AbortController();
    process.once('SIGINT', () => controller.abort());
    const outcome = await engine.run(
      job,
      {
        onProgress: (p) => progress.update(p),
        onResult: async (r) => {
          const file = join(outDir, `${String(setIndex(r.index) + 1).padStart(2, '0')}-${slug(r.prompt)}.png`);
          // SVG-only runs keep the PNG in memory (written only for an image that gets no SVG).
          if (flags.format !== 'svg') await writeFile(file, r.png);
          if (vector) pngs.push({ index: r.index, file, png: r.png, transparent: r.transparent, warning: r.warning });
          images.push({ index: r.index, ...(style !== undefined && { setIndex: setIndex(r.index) }), prompt: r.prompt, seed: r.seed, file });
          latents.push({ index: r.index, tensor: r.latents });
        },
        onVector: async (set) => {
          svgs = set;
        },
      },
      controller.signal,
    );
    await afterRun(outcome);
    progress.stop();
    images.sort((a, b) => a.index - b.index);
    let vectorRecord: SetVectorRecord | undefined;
    if (vector) {
      pngs.sort((a, b) => a.index - b.index);
      vectorRecord = await writeVectorOutputs(pngs, svgs, flags);
    }
    if (flags.saveLatents) {
      latents.sort((a, b) => a.index - b.index);
      await writeNpy(resolve(flags.saveLatents), concatBatch(latents.map((l) => l.tensor)));
    }
    const record = {
      model: { id: model.id, kind: model.kind, path: model.path },
      kind,
      ...(style !== undefined && { style: style.manifest.name, firstIndex: job.firstIndex }),
      referenceImage: flags.refImage ? resolve(flags.refImage) : undefined,
      referencePrompt: flags.refPrompt ?? style?.manifest.prompt,
      // The images per U-Net batch the set ran with, also when the engine chose the batch size
      // from the memory there is: it repeats the set exactly, and a style saved from it keeps it.
      options: { ...job.options, batchSize: outcome.batchSize ?? job.options.batchSize, initLatents: flags.initLatents ? resolve(flags.initLatents) : undefined },
      images: images.map((img, i) => {
        const v = vectorRecord?.images[i];
        // An SVG-only run wrote no PNG: its file is the SVG.
        return { ...img, ...(flags.format === 'svg' && v?.svg !== undefined && { file: v.svg }), ...v };
      }),
      vector: vectorRecord && { format: vectorRecord.format, background: vectorRecord.background, palette: vectorRecord.palette, palettes: vectorRecord.palettes },
      trajectoryKey: outcome.trajectoryKey,
      timings: { ...outcome.timings, ...(vectorRecord?.ms !== undefined && { vectorMs: vectorRecord.ms }), totalMs: Math.round(performance.now() - started) },
    };
    await writeFile(join(outDir, 'set.json'), JSON.stringify(record, null, 2) + '\n');
    if (flags.json) {
      process.stdout.write(JSON.stringify(record) + '\n');
    } else {
      for (const [i, img] of images.entries()) {
        const v = vectorRecord?.images[i];
        const files = [v ? v.png : img.file, v?.svg].filter((f) => f !== undefined).join('  ');
        const svgNote = v?.svg !== undefined ? `, ${v.paths} paths, ${((v.bytes ?? 0) / 1024).toFixed(1)} KB` : '';
        process.stdout.write(`${files}  (seed ${img.seed}${svgNote})\n`);
        if (v?.warning) process.stdout.write(`  warning: ${v.warning}\n`);
      }
      if (vectorRecord && vectorRecord.palettes.length === 1) {
        process.stdout.write(`palette: ${vectorRecord.palettes[0].colours.map((c) => c.hex).join(' ')}\n`);
      }
      const shared = job.options.shareAttention ? 'in one shared style' : 'without sharing';
      process.stdout.write(`${images.length} images ${shared} in ${(record.timings.totalMs / 1000).toFixed(1)} s; record: ${join(outDir, 'set.json')}\n`);
    }
  } finally {
    progress.stop();
    await engine.close();
  }
}

async function readInput(path: string, what: string): Promise<Uint8Array> {
  try {
    return await readFile(resolve(path));
  } catch (err) {
    throw new InputError(`${path}: cannot read ${what} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
  }
}

function slug(prompt: string): string {
  return prompt.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'image';
}

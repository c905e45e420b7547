import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { EngineSvg, EngineVectorSet } from '../../src/engine/engine';
import { createRng, randomIconSpec, renderIcon } from '../../src/icons';
import type { Image8 } from '../../src/image/image8';
import { vectoriseSet } from '../../src/vector';
import type { BenchModel } from '../models';
import { openEngine, SEED, setJob, setPrompts } from './common';

const execFileAsync = promisify(execFile);

export interface VectorSpec {
  kind: 'vector';
  model: BenchModel;
  dataDir: string;
  targets: number;
  steps?: number;
  /** Timed pairs of warm jobs (PNG, then vector output); as many clean-icon runs. */
  repeats: number;
}

/** What a vectorised image came to. */
export interface VectorImageStats {
  width: number;
  separated: boolean;
  paths: number;
  subpaths: number;
  bytes: number;
  fidelity: string;
  errorQuantised: number;
  errorOriginal: number;
}

/**
 * One pair of warm jobs on one engine, as `styleset generate` runs them: the set as PNGs, then
 * the same set with `--format both --background transparent` (each image separated from its
 * background as it is decoded, the SVGs once the last is in).
 */
export interface VectorRun {
  /** The PNG-only job, submit to done: what vector output adds to. */
  pngMs: number;
  /** The job with vector output, submit to its SVGs. */
  setMs: number;
  /** Of that: the engine's time on the SVGs after the last image (`EngineVectorSet.ms`). */
  svgMs: number;
  /** Each job's decoding phase: the vector job's separates every image too. */
  pngDecodingMs: number;
  decodingMs: number;
  images: VectorImageStats[];
}

/** `vectoriseSet` alone on images it is given (no model). */
export interface CleanRun {
  vectorMs: number;
  images: VectorImageStats[];
}

/** One `styleset generate` process, start to exit, and the times its set.json reports. */
export interface CliRun {
  format: 'png' | 'both';
  wallMs: number;
  timings: Record<string, number>;
}

export interface VectorResult {
  /** The model's own sets, warm. */
  model: VectorRun[];
  /** The first vector job of the engine, after a warm PNG job: its libraries and trace lanes start with it, its code runs cold. */
  first: { pngMs: number; setMs: number; svgMs: number };
  /**
   * Four flat-coloured 128 px icons from the procedural renderer: a stand-in for a model whose
   * outputs are flat-coloured, vectorised alone (no set).
   */
  clean: CleanRun[];
  /** The README's command as one process each (the derived models cached), alternating PNG and vector output. */
  cli: CliRun[];
}

/** Warm job pairs before the timed ones: the vector code runs optimised once it has run a few times. */
const WARMUP_PAIRS = 3;
/** `styleset generate` processes per format. */
const CLI_RUNS = 3;

/** What `styleset generate --format both --background transparent` asks for. */
const VECTOR_OPTIONS = { format: 'both', background: 'transparent' } as const;

function imageStats(svg: EngineSvg, transparent: boolean | undefined): VectorImageStats {
  const stats = svg.stats!;
  return {
    width: svg.width,
    separated: transparent === true,
    paths: stats.paths,
    subpaths: stats.subpaths,
    bytes: stats.bytes,
    fidelity: stats.fidelity,
    errorQuantised: stats.errorQuantised,
    errorOriginal: stats.errorOriginal,
  };
}

function cleanIcons(): Image8[] {
  const rng = createRng(4);
  return Array.from({ length: 4 }, () => ({ width: 128, height: 128, channels: 3 as const, data: renderIcon(randomIconSpec(rng), 128).rgb }));
}

async function timeClean(images: Image8[]): Promise<CleanRun> {
  const started = performance.now();
  const set = await vectoriseSet(images, { background: 'transparent', svg: true, palette: 'set' });
  const vectorMs = performance.now() - started;
  return { vectorMs, images: set.images.map((im) => ({ width: im.png.width, separated: im.separated, ...im.stats! })) };
}

const CLI = fileURLToPath(new URL('../../bin/styleset.js', import.meta.url));

async function runCli(format: CliRun['format'], dataDir: string, prompts: string[]): Promise<CliRun> {
  const out = await mkdtemp(join(tmpdir(), 'styleset-bench-cli-'));
  try {
    const args = [CLI, 'generate', '--data-dir', dataDir, '--seed', String(SEED), '-o', out, ...(format === 'both' ? ['--format', 'both', '--background', 'transparent'] : []), ...prompts];
    const started = performance.now();
    await execFileAsync(process.execPath, args);
    const wallMs = performance.now() - started;
    const set = JSON.parse(await readFile(join(out, 'set.json'), 'utf8')) as { timings: Record<string, number> };
    return { format, wallMs, timings: set.timings };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

export async function runVector(spec: VectorSpec): Promise<VectorResult> {
  const { engine, info } = await openEngine(spec.model, spec.dataDir);
  try {
    const job = (vector: boolean) => setJob(info, spec.targets, { steps: spec.steps, ...(vector ? VECTOR_OPTIONS : {}) });
    const run = async (vector: boolean) => {
      const transparent = new Map<number, boolean | undefined>();
      let svgs: EngineVectorSet | undefined;
      const started = performance.now();
      const outcome = await engine.run(
        job(vector),
        { onProgress: () => {}, onResult: async (r) => void transparent.set(r.index, r.transparent), onVector: async (set) => void (svgs = set) },
        new AbortController().signal,
      );
      return { ms: performance.now() - started, decodingMs: outcome.timings?.decoding ?? NaN, svgs, transparent };
    };
    await run(false);
    const firstPng = await run(false);
    const first = await run(true);
    for (let i = 0; i < WARMUP_PAIRS; i++) {
      await run(false);
      await run(true);
    }
    const model: VectorRun[] = [];
    for (let i = 0; i < spec.repeats; i++) {
      const png = await run(false);
      const vector = await run(true);
      model.push({
        pngMs: png.ms,
        setMs: vector.ms,
        svgMs: vector.svgs!.ms,
        pngDecodingMs: png.decodingMs,
        decodingMs: vector.decodingMs,
        images: vector.svgs!.images.filter((im) => im.stats).map((im) => imageStats(im, vector.transparent.get(im.index))),
      });
    }
    const clean: CleanRun[] = [];
    for (let i = 0; i < WARMUP_PAIRS; i++) await timeClean(cleanIcons());
    for (let i = 0; i < spec.repeats; i++) clean.push(await timeClean(cleanIcons()));
    const prompts = setPrompts(spec.targets);
    const cli: CliRun[] = [];
    for (let i = 0; i < CLI_RUNS; i++) for (const format of ['png', 'both'] as const) cli.push(await runCli(format, spec.dataDir, prompts));
    return { model, first: { pngMs: firstPng.ms, setMs: first.ms, svgMs: first.svgs!.ms }, clean, cli };
  } finally {
    await engine.close();
  }
}

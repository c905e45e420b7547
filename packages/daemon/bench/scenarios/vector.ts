import { createRng, randomIconSpec, renderIcon } from '../../src/icons';
import { DEFAULT_DECODE_LIMITS, type Image8 } from '../../src/image/image8';
import { decodePng } from '../../src/image/png';
import { preloadVectorLibraries, vectoriseSet, type VectorOptions } from '../../src/vector';
import type { BenchModel } from '../models';
import { openEngine, setJob } from './common';

export interface VectorSpec {
  kind: 'vector';
  model: BenchModel;
  dataDir: string;
  targets: number;
  steps?: number;
  /** Warm sets, each followed by vectorising its images. */
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

export interface VectorRun {
  /** The set's wall time (PNG encoding included) and the vectorising of all its images after it. */
  setMs: number;
  vectorMs: number;
  images: VectorImageStats[];
}

export interface VectorResult {
  /** The model's own sets. */
  model: VectorRun[];
  /**
   * The first vectorising in the process (svgo's import included, which the CLI overlaps with
   * generation).
   */
  firstVectorMs: number;
  /**
   * Four flat-coloured 128 px icons from the procedural renderer: a stand-in for the retrained
   * model's outputs, timed alone (`setMs` 0).
   */
  clean: VectorRun[];
}

/** Untimed vectorisings of the first set after the first, before the timed ones. */
const WARMUP_VECTORISINGS = 4;

/** What `styleset generate --format both --background transparent` does after a set. */
const OPTIONS: VectorOptions = { background: 'transparent', svg: true, palette: 'set' };

async function timeVectorise(images: Image8[]): Promise<{ vectorMs: number; images: VectorImageStats[] }> {
  const started = performance.now();
  const set = await vectoriseSet(images, OPTIONS);
  const vectorMs = performance.now() - started;
  return {
    vectorMs,
    images: set.images.map((im) => ({ width: im.png.width, separated: im.separated, ...im.stats! })),
  };
}

function cleanIcons(): Image8[] {
  const rng = createRng(4);
  return Array.from({ length: 4 }, () => ({ width: 128, height: 128, channels: 3 as const, data: renderIcon(randomIconSpec(rng), 128).rgb }));
}

export async function runVector(spec: VectorSpec): Promise<VectorResult> {
  const { engine, info } = await openEngine(spec.model, spec.dataDir);
  try {
    // As the engine does when a job asks for SVGs: the libraries and trace lanes load while the set is made.
    const preloading = preloadVectorLibraries();
    const job = setJob(info, spec.targets, { steps: spec.steps });
    const generate = async (): Promise<{ setMs: number; images: Image8[] }> => {
      const pngs: { index: number; png: Uint8Array }[] = [];
      const started = performance.now();
      await engine.run(job, { onProgress: () => {}, onResult: async (r) => void pngs.push({ index: r.index, png: r.png }) }, new AbortController().signal);
      const setMs = performance.now() - started;
      return { setMs, images: pngs.sort((a, b) => a.index - b.index).map((p) => decodePng(p.png, `image ${p.index}`, DEFAULT_DECODE_LIMITS)) };
    };
    const first = await generate();
    await preloading;
    const firstVectorMs = (await timeVectorise(first.images)).vectorMs;
    // Warm, as the sets are: a daemon's vectoriser (and its lanes' code) has been optimised by
    // earlier jobs; the first ones in a process are slower, and reported apart (firstVectorMs).
    for (let i = 0; i < WARMUP_VECTORISINGS; i++) await vectoriseSet(first.images, OPTIONS);
    const model: VectorRun[] = [];
    for (let i = 0; i < spec.repeats; i++) {
      const { setMs, images } = await generate();
      model.push({ setMs, ...(await timeVectorise(images)) });
    }
    const clean: VectorRun[] = [];
    for (let i = 0; i < spec.repeats; i++) clean.push({ setMs: 0, ...(await timeVectorise(cleanIcons())) });
    return { model, firstVectorMs, clean };
  } finally {
    await engine.close();
  }
}

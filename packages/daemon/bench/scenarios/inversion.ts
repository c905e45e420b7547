import { resolveOptions, type ModelInfo, type Phase } from '@styleset/protocol';
import type { EngineJob } from '../../src/engine/engine';
import { loadGlyphLibrary } from '../../src/eval/glyph-library';
import { drawReferenceIcon } from '../../src/eval/reference-icon';
import { encodePng } from '../../src/image/png';
import type { BenchModel } from '../models';
import { SEED, openEngine, runJob, setPrompts } from './common';

export interface InversionSpec {
  kind: 'inversion';
  model: BenchModel;
  /** A fresh folder: no trajectory is stored yet. */
  dataDir: string;
  targets: number;
  /** Absent: the image-reference defaults (50 DDIM steps, offset 5). */
  steps?: number;
  offset?: number;
}

export interface ReferenceRun {
  wallMs: number;
  phases: Partial<Record<Phase, number>>;
}

export interface InversionResult {
  steps: number;
  /** Inverts the image, stores the trajectory, generates the set. */
  first: ReferenceRun;
  /** The same image and prompt again: the stored trajectory must be reused. */
  second: ReferenceRun;
}

/** Two reference-image sets in the same style, one after the other in one daemon process. */
export async function runInversion(spec: InversionSpec): Promise<InversionResult> {
  const { engine, info } = await openEngine(spec.model, spec.dataDir);
  const job = await referenceJob(info, spec);
  // Load the model first, so that the first set's time is inversion plus generation only.
  await runJob(engine, { kind: 'set', prompts: setPrompts(1), options: { ...job.options, steps: 1 } });
  const first = await runJob(engine, job);
  const second = await runJob(engine, job);
  await engine.close();
  return {
    steps: job.options.steps,
    first: { wallMs: first.wallMs, phases: first.outcome.timings },
    second: { wallMs: second.wallMs, phases: second.outcome.timings },
  };
}

/** The reference image: the held-out lucide star as the evaluation draws it, white on a blue circle. */
async function referenceJob(info: ModelInfo, spec: InversionSpec): Promise<EngineJob> {
  const library = await loadGlyphLibrary();
  const star = library.glyphs.find((g) => g.set === 'lucide' && g.name === 'star')!;
  const png = encodePng(drawReferenceIcon(star.coverage, library.size, { background: 'cream', container: 'circle', surface: 'blue', foreground: 'white' }, info.width));
  const options = resolveOptions('reference', info, { seed: SEED, steps: spec.steps, inversionOffset: spec.offset });
  const [referencePrompt, ...prompts] = setPrompts(spec.targets);
  return { kind: 'reference', prompts, referencePrompt, referenceImage: png, options: { ...options, model: info.id, seed: SEED } };
}

import { resolveOptions, type ModelInfo, type Phase } from '@styleset/protocol';
import type { EngineJob } from '../../src/engine/engine';
import { createRng, randomIconSpec, renderIcon } from '../../src/icons';
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
  const job = referenceJob(info, spec);
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

function referenceJob(info: ModelInfo, spec: InversionSpec): EngineJob {
  const icon = renderIcon(randomIconSpec(createRng(SEED), 'star'), info.width);
  const png = encodePng({ width: icon.width, height: icon.height, channels: 3, data: icon.rgb });
  const options = resolveOptions('reference', info, { seed: SEED, steps: spec.steps, inversionOffset: spec.offset });
  const [referencePrompt, ...prompts] = setPrompts(spec.targets);
  return { kind: 'reference', prompts, referencePrompt, referenceImage: png, options: { ...options, model: info.id, seed: SEED } };
}

import { peakRssMiB } from '../measure/peak-rss';
import type { BenchModel } from '../models';
import { openEngine, runJob, setJob } from './common';

/**
 * One U-Net batch for the whole set (forced), the engine's default batching (as many images
 * as its memory estimate allows, up to its cap, then even chunks), or chunks of `chunk` images; chunks each carry the
 * reference.
 */
export type Batching = 'one-batch' | 'default' | 'chunked';

export interface ScalingSpec {
  kind: 'scaling';
  model: BenchModel;
  dataDir: string;
  batching: Batching;
  /** Images per chunk, reference included (the `chunked` batch size). */
  chunk: number;
  /** Targets per set (the reference comes on top), ascending. */
  sizes: number[];
  /** Absent: the model's default. */
  steps?: number;
  repeats: number;
}

export interface ScalingPoint {
  targets: number;
  batchSize: number;
  setsMs: number[];
  /** The process's peak so far: sizes ascend, so for one batch this is the peak of this size. */
  peakRssMiB: number;
}

/** StyleAligned sets of growing size, warm, in one process. */
export async function runScaling(spec: ScalingSpec): Promise<ScalingPoint[]> {
  const { engine, info } = await openEngine(spec.model, spec.dataDir);
  const points: ScalingPoint[] = [];
  for (const targets of spec.sizes) {
    const batchSize = { 'one-batch': targets + 1, default: undefined, chunked: spec.chunk }[spec.batching];
    const job = setJob(info, targets, { steps: spec.steps, batchSize, shareAttention: true });
    // One step first: ONNX Runtime plans its memory for each new batch shape on the first call.
    const { outcome } = await runJob(engine, { ...job, options: { ...job.options, steps: 1 } });
    const setsMs: number[] = [];
    for (let i = 0; i < spec.repeats; i++) setsMs.push((await runJob(engine, job)).wallMs);
    points.push({ targets, batchSize: outcome.batchSize!, setsMs, peakRssMiB: peakRssMiB() });
  }
  await engine.close();
  return points;
}

import type { Phase } from '@styleset/protocol';
import { profileJs, type JsBreakdown } from '../measure/js-profile';
import { OrtTime } from '../measure/ort-time';
import type { BenchModel } from '../models';
import { openEngine, runJob, setJob } from './common';

export interface SetsSpec {
  kind: 'sets';
  model: BenchModel;
  /** Holds the rewrite cache: a fresh folder starts cold, one an earlier child filled starts cache-warm. */
  dataDir: string;
  share: boolean;
  targets: number;
  /** Absent: the model's default. */
  steps?: number;
  /** Sets after the first, in the same process. */
  warmRepeats: number;
  /** Profiles the JavaScript of one more warm set (its timing is not among the warm ones). */
  profileJs: boolean;
}

export interface WarmSet {
  wallMs: number;
  /** The event loop's busy time (ONNX Runtime's synchronous runs included); the rest it waited. */
  loopBusyMs: number;
  /** Inside ONNX Runtime's run calls, in all and by component. */
  ortMs: number;
  ortByComponent: Record<string, number>;
  phases: Partial<Record<Phase, number>>;
}

export interface SetsResult {
  steps: number;
  /** Images per U-Net batch, reference included (before guidance doubles it). */
  batchSize: number;
  /** The first job's `loading` phase: layout, rewrite (unless cached), sessions. */
  loadMs: number;
  /** The first job's wall time after loading: its first calls also plan ONNX Runtime's memory. */
  firstSetMs: number;
  warm: WarmSet[];
  profile?: { wallMs: number; breakdown: JsBreakdown };
}

/** A process's life as the CLI or a fresh daemon sees it: load on the first job, then warm jobs. */
export async function runSets(spec: SetsSpec): Promise<SetsResult> {
  const ort = new OrtTime();
  const { engine, info } = await openEngine(spec.model, spec.dataDir);
  const job = setJob(info, spec.targets, { steps: spec.steps, shareAttention: spec.share });
  const first = await runJob(engine, job);
  const loadMs = first.outcome.timings.loading ?? 0;
  const warm: WarmSet[] = [];
  for (let i = 0; i < spec.warmRepeats; i++) {
    ort.take();
    const loop = performance.eventLoopUtilization();
    const { wallMs, outcome } = await runJob(engine, job);
    const loopBusyMs = performance.eventLoopUtilization(loop).active;
    const { totalMs, byComponent } = ort.take();
    warm.push({ wallMs, loopBusyMs, ortMs: totalMs, ortByComponent: byComponent, phases: outcome.timings });
  }
  let profile: SetsResult['profile'];
  if (spec.profileJs) {
    const { value, breakdown } = await profileJs(() => runJob(engine, job));
    profile = { wallMs: value.wallMs, breakdown };
  }
  await engine.close();
  return {
    steps: job.options.steps,
    batchSize: first.outcome.batchSize!,
    loadMs,
    firstSetMs: first.wallMs - loadMs,
    warm,
    profile,
  };
}

import type { ChildReply, ScenarioSpec } from './child';
import type { OtherWork } from './measure/contention';
import type { BenchModel } from './models';
import type { ModelPlan } from './plan';
import type { UnetVariant } from './scenarios/calls';
import type { Batching } from './scenarios/scaling';

export type Sharing = 'plain' | 'shared';

/** A scenario's reply, with the other work the machine did while it ran. */
export type Measured<K extends ScenarioSpec['kind']> = ChildReply<K> & { otherWork: OtherWork };

/** StyleAligned U-Net calls under a session-option variant, or on the fp16 export one way or the other. */
export interface OptionRun {
  label: string;
  variant?: string;
  model: BenchModel;
  reply: Measured<'calls'>;
}

export interface ModelResults {
  model: BenchModel;
  plan: ModelPlan;
  /** One process per variant. */
  calls: Record<UnetVariant, Measured<'calls'>>;
  /** `cold`: each process with an empty rewrite cache; `cacheWarm`: with the rewrite already cached. */
  sets: Record<'cold' | 'cacheWarm', Record<Sharing, Array<Measured<'sets'>>>>;
  options: OptionRun[];
  opProfile: Measured<'op-profile'>;
  /** `chunked` holds only the sizes that do not fit one chunk; smaller sets are the same either way. */
  scaling: Record<Batching, Measured<'scaling'>>;
  inversion: Array<Measured<'inversion'>>;
  daemon: Measured<'daemon'>;
  /** Vector output after warm sets (the default model only; absent in runs before it existed). */
  vector?: Measured<'vector'> & { /** When measured by `--only vector` alone: its command and start. */ separately?: SeparateRun };
  /** Plain generation against the export as it is (absent in runs before it existed). */
  plainVsExport?: PlainVsExport;
  /** The default batch size's memory estimate for this model (absent in runs before it existed). */
  memoryEstimate?: MemoryEstimate;
}

/** A scenario rerun alone (`npm run bench -- --only ...`): its command, start, and the CPU it ran
 * on, which can differ from the page's machine (machines here are not always the same CPU). */
export interface SeparateRun {
  command: string;
  startedAt: string;
  /** Absent in runs before it was recorded. */
  cpu?: string;
}

/** engine/batch-size.ts's estimate of one U-Net row, at the model's native size. */
export interface MemoryEstimate {
  rowBytes: number;
  rowsPerImage: number;
  /** When computed by `--only memory-estimate` against an earlier run's peaks: its command and start. */
  separately?: SeparateRun;
}

/** U-Net calls of the export and of the rewrite with sharing off, one process each, alternating. */
export interface PlainVsExport {
  images: number;
  export: Array<Measured<'calls'>>;
  plain: Array<Measured<'calls'>>;
  /** When measured by a run of this scenario alone (`--only plain-vs-export`): its command and start. */
  separately?: SeparateRun;
}

/** Scenarios that need no model. */
export interface ServiceResults {
  load: Measured<'service-load'>;
  fixtures: Measured<'fixtures'>;
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  onnxruntime: string;
}

export interface BenchResults {
  command: string;
  quick: boolean;
  startedAt: string;
  durationS: number;
  machine: Machine;
  /** Models that were not run, and why. */
  skipped: string[];
  models: ModelResults[];
  /** Absent from runs made before these scenarios existed. */
  service?: ServiceResults;
}

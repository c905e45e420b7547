import type { ChildReply } from './child';
import type { BenchModel } from './models';
import type { ModelPlan } from './plan';
import type { UnetVariant } from './scenarios/calls';
import type { Batching } from './scenarios/scaling';

export type Sharing = 'plain' | 'shared';

/** StyleAligned U-Net calls under a session-option variant, or (no variant) on an fp16 export with the defaults. */
export interface OptionRun {
  variant?: string;
  model: BenchModel;
  reply: ChildReply<'calls'>;
}

export interface ModelResults {
  model: BenchModel;
  plan: ModelPlan;
  /** One process per variant. */
  calls: Record<UnetVariant, ChildReply<'calls'>>;
  /** `cold`: each process with an empty rewrite cache; `cacheWarm`: with the rewrite already cached. */
  sets: Record<'cold' | 'cacheWarm', Record<Sharing, Array<ChildReply<'sets'>>>>;
  options: OptionRun[];
  opProfile: ChildReply<'op-profile'>;
  /** `chunked` holds only the sizes that do not fit one chunk; smaller sets are the same either way. */
  scaling: Record<Batching, ChildReply<'scaling'>>;
  inversion: Array<ChildReply<'inversion'>>;
  daemon: ChildReply<'daemon'>;
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  onnxruntime: string;
  /** Share of CPU time other processes used in the seconds before the run started (0..1). */
  busyBefore: number;
  /** Processes that used a core's worth of time or more then, by command name. */
  busyProcesses: string[];
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
}

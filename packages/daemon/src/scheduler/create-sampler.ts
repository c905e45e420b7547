import { parseSchedulerConfig, type SamplerKind } from './config';
import { DdimSampler } from './ddim';
import { EulerAncestralSampler } from './euler-ancestral';
import { LcmSampler } from './lcm';
import type { Sampler } from './sampler';

export interface SamplerOptions {
  /** DDIM only: 0 (default) is deterministic. */
  eta?: number;
  /** The config's file, for error messages. */
  source?: string;
}

/** A sampler of `kind` for `steps` steps from a parsed `scheduler_config.json`. */
export function createSampler(kind: SamplerKind, schedulerConfig: unknown, steps: number, options: SamplerOptions = {}): Sampler {
  const config = parseSchedulerConfig(schedulerConfig, kind, options.source);
  switch (kind) {
    case 'ddim':
      return new DdimSampler(config, steps, options.eta);
    case 'euler_ancestral':
      return new EulerAncestralSampler(config, steps);
    case 'lcm':
      return new LcmSampler(config, steps);
  }
}

import { ModelError } from '../errors';

/** The samplers the daemon runs; each reads the same scheduler_config.json with its own defaults. */
export type SamplerKind = 'ddim' | 'euler_ancestral' | 'lcm';

export type BetaSchedule = 'linear' | 'scaled_linear' | 'squaredcos_cap_v2';
export type PredictionType = 'epsilon' | 'v_prediction' | 'sample';
export type TimestepSpacing = 'leading' | 'trailing' | 'linspace';

/** The fields of a diffusers `scheduler_config.json` that the samplers use. */
export interface SchedulerConfig {
  numTrainTimesteps: number;
  betaSchedule: BetaSchedule;
  betaStart: number;
  betaEnd: number;
  /** Explicit betas; when present they replace the schedule. */
  trainedBetas: readonly number[] | null;
  stepsOffset: number;
  /** Alpha-bar "before" the first training step: 1, or alpha-bar at t = 0. */
  setAlphaToOne: boolean;
  clipSample: boolean;
  clipSampleRange: number;
  predictionType: PredictionType;
  timestepSpacing: TimestepSpacing;
  rescaleBetasZeroSnr: boolean;
  /** LCM: the distillation schedule the inference timesteps are picked from. */
  originalInferenceSteps: number;
  /** LCM: multiplies t in the consistency boundary conditions. */
  timestepScaling: number;
}

/**
 * Missing keys take the defaults of the diffusers class that runs the sampler, as
 * `XScheduler.from_config(config)` does; model exports usually name another class.
 */
const COMMON: SchedulerConfig = {
  numTrainTimesteps: 1000,
  betaSchedule: 'linear',
  betaStart: 0.0001,
  betaEnd: 0.02,
  trainedBetas: null,
  stepsOffset: 0,
  setAlphaToOne: true,
  clipSample: true,
  clipSampleRange: 1,
  predictionType: 'epsilon',
  timestepSpacing: 'leading',
  rescaleBetasZeroSnr: false,
  originalInferenceSteps: 50,
  timestepScaling: 10,
};

const DEFAULTS: Record<SamplerKind, SchedulerConfig> = {
  ddim: COMMON,
  euler_ancestral: { ...COMMON, timestepSpacing: 'linspace' },
  lcm: { ...COMMON, betaSchedule: 'scaled_linear', betaStart: 0.00085, betaEnd: 0.012, clipSample: false },
};

class Fields {
  constructor(
    private readonly json: Record<string, unknown>,
    private readonly source: string,
  ) {}

  private fail(key: string, expected: string): never {
    throw new ModelError(`${this.source}: "${key}" must be ${expected} (got ${JSON.stringify(this.json[key])})`);
  }

  /** null counts as absent: exports write e.g. `"trained_betas": null`. */
  private raw(key: string): unknown {
    return this.json[key] ?? undefined;
  }

  integer(key: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.raw(key);
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.fail(key, `an integer from ${min} to ${max}`);
    return v;
  }

  positive(key: string, fallback: number, below = Infinity): number {
    const v = this.raw(key);
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !(v > 0) || !(v < below)) this.fail(key, below === Infinity ? 'a positive number' : `a number in (0, ${below})`);
    return v;
  }

  boolean(key: string, fallback: boolean): boolean {
    const v = this.raw(key);
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') this.fail(key, 'true or false');
    return v;
  }

  oneOf<T extends string>(key: string, fallback: T, allowed: readonly T[]): T {
    const v = this.raw(key);
    if (v === undefined) return fallback;
    if (!allowed.includes(v as T)) this.fail(key, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`);
    return v as T;
  }

  betas(key: string, count: number): readonly number[] | null {
    const v = this.raw(key);
    if (v === undefined) return null;
    if (!Array.isArray(v) || v.length !== count || !v.every((b) => typeof b === 'number' && b > 0 && b < 1)) {
      this.fail(key, `null or a list of ${count} numbers in (0, 1) (one per training timestep)`);
    }
    return v as number[];
  }
}

/**
 * Validates a parsed `scheduler_config.json` for a sampler. Keys the samplers do not use
 * (`_class_name`, `skip_prk_steps`, `use_karras_sigmas`, ...) are ignored.
 */
export function parseSchedulerConfig(json: unknown, kind: SamplerKind, source = 'scheduler_config.json'): SchedulerConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ModelError(`${source}: expected a JSON object with the scheduler's settings`);
  }
  const d = DEFAULTS[kind];
  const f = new Fields(json as Record<string, unknown>, source);
  if (f.boolean('thresholding', false)) {
    throw new ModelError(`${source}: "thresholding": true (dynamic thresholding, for pixel-space models) is not supported`);
  }
  const numTrainTimesteps = f.integer('num_train_timesteps', d.numTrainTimesteps, 2);
  const config: SchedulerConfig = {
    numTrainTimesteps,
    betaSchedule: f.oneOf('beta_schedule', d.betaSchedule, ['linear', 'scaled_linear', 'squaredcos_cap_v2']),
    betaStart: f.positive('beta_start', d.betaStart, 1),
    betaEnd: f.positive('beta_end', d.betaEnd, 1),
    trainedBetas: f.betas('trained_betas', numTrainTimesteps),
    stepsOffset: f.integer('steps_offset', d.stepsOffset, 0, numTrainTimesteps - 1),
    setAlphaToOne: f.boolean('set_alpha_to_one', d.setAlphaToOne),
    clipSample: f.boolean('clip_sample', d.clipSample),
    clipSampleRange: f.positive('clip_sample_range', d.clipSampleRange),
    predictionType: f.oneOf('prediction_type', d.predictionType, ['epsilon', 'v_prediction', 'sample']),
    timestepSpacing: f.oneOf('timestep_spacing', d.timestepSpacing, ['leading', 'trailing', 'linspace']),
    rescaleBetasZeroSnr: f.boolean('rescale_betas_zero_snr', d.rescaleBetasZeroSnr),
    originalInferenceSteps: f.integer('original_inference_steps', d.originalInferenceSteps, 1, numTrainTimesteps),
    timestepScaling: f.positive('timestep_scaling', d.timestepScaling),
  };
  if (kind === 'euler_ancestral' && config.predictionType === 'sample') {
    throw new ModelError(`${source}: "prediction_type": "sample" is not supported by the Euler ancestral sampler (expected "epsilon" or "v_prediction")`);
  }
  if (config.betaSchedule !== 'squaredcos_cap_v2' && config.trainedBetas === null && config.betaStart > config.betaEnd) {
    throw new ModelError(`${source}: "beta_start" (${config.betaStart}) must not exceed "beta_end" (${config.betaEnd})`);
  }
  return config;
}

import type { InferenceSession } from 'onnxruntime-node';

/**
 * What the benchmark runs on each model, and how often. The default model runs at its own
 * steps (the product's case, which the 3-second target is about); the tiny large models have
 * random weights, so only their cost matters, and a few steps show it: a set's time is its steps
 * times a U-Net call, plus text encoding and decoding. The counts keep a full run within about
 * 16 minutes on the 2-core machine; the large SDXL model (about 5x an SD 1 call) gets fewer.
 */
export interface ModelPlan {
  /** Steps of the timed sets and of the daemon's; absent: the model's default. */
  setSteps?: number;
  /** Targets of a set, besides its reference: the "4-icon set". */
  targets: number;
  calls: { warmup: number; repeats: number };
  /** Processes per cold-start variant, each running `warmRepeats` warm sets after its first. */
  cold: { processes: number; warmRepeats: number };
  scaling: { sizes: number[]; steps?: number; repeats: number };
  /** Images per chunk, reference included, for chunked sets. */
  chunk: number;
  /** Processes, each inverting once and reusing the trajectory once. */
  inversion: { processes: number; steps?: number; offset?: number };
  daemonRepeats: number;
  /** Session-option variants (keys of OPTION_VARIANTS). */
  options: string[];
  opProfileRepeats: number;
  /** Warm sets vectorised (transparent PNGs and SVGs, one palette); 0: not measured. */
  vectorRepeats: number;
  /**
   * Plain generation (the rewrite's fused attention) against the export as it is, on the batch of
   * a set of `images` with guidance; `processes` of each, alternating. Absent: not measured.
   */
  plainVsExport?: { images: number; processes: number; warmup: number; repeats: number };
}

/**
 * Session options tried against `sessionOptions()`'s defaults, each in its own process. The
 * defaults' own numbers are the StyleAligned U-Net calls, measured the same way.
 */
export const OPTION_VARIANTS: Record<string, { label: string; overrides: InferenceSession.SessionOptions }> = {
  'threads-1': { label: 'intraOpNumThreads 1', overrides: { intraOpNumThreads: 1 } },
  'opt-disabled': { label: 'graphOptimizationLevel disabled', overrides: { graphOptimizationLevel: 'disabled' } },
  'opt-basic': { label: 'graphOptimizationLevel basic', overrides: { graphOptimizationLevel: 'basic' } },
  'opt-extended': { label: 'graphOptimizationLevel extended', overrides: { graphOptimizationLevel: 'extended' } },
  'no-arena': { label: 'enableCpuMemArena false', overrides: { enableCpuMemArena: false } },
  'no-mem-pattern': { label: 'enableMemPattern false', overrides: { enableMemPattern: false } },
  parallel: { label: "executionMode 'parallel', interOpNumThreads 2", overrides: { executionMode: 'parallel', interOpNumThreads: 2 } },
  'no-spinning': {
    label: 'session.intra_op.allow_spinning 0',
    overrides: { extra: { session: { intra_op: { allow_spinning: '0' } } } },
  },
  'denormal-zero': {
    label: 'session.set_denormal_as_zero 1',
    overrides: { extra: { session: { set_denormal_as_zero: '1' } } },
  },
};

const ALL_OPTIONS = Object.keys(OPTION_VARIANTS);
const SIZES = [1, 2, 4, 8, 16, 32];

const FULL: Record<string, ModelPlan> = {
  default: {
    targets: 4,
    calls: { warmup: 2, repeats: 15 },
    cold: { processes: 5, warmRepeats: 2 },
    scaling: { sizes: SIZES, repeats: 2 },
    chunk: 5,
    inversion: { processes: 3 },
    daemonRepeats: 5,
    options: ALL_OPTIONS,
    opProfileRepeats: 5,
    vectorRepeats: 5,
  },
  'sd1-large': {
    setSteps: 4,
    targets: 4,
    calls: { warmup: 1, repeats: 7 },
    cold: { processes: 3, warmRepeats: 2 },
    scaling: { sizes: SIZES, steps: 2, repeats: 2 },
    chunk: 5,
    inversion: { processes: 2, steps: 4, offset: 1 },
    daemonRepeats: 3,
    options: ALL_OPTIONS,
    opProfileRepeats: 3,
    vectorRepeats: 0,
    // Issue #19's case: 4 images with guidance, a batch of 8.
    plainVsExport: { images: 4, processes: 3, warmup: 1, repeats: 7 },
  },
  'sdxl-large': {
    setSteps: 1,
    targets: 4,
    calls: { warmup: 1, repeats: 5 },
    cold: { processes: 3, warmRepeats: 1 },
    scaling: { sizes: SIZES, steps: 1, repeats: 1 },
    chunk: 5,
    inversion: { processes: 1, steps: 2, offset: 1 },
    daemonRepeats: 2,
    options: ['threads-1', 'no-spinning'],
    opProfileRepeats: 2,
    vectorRepeats: 0,
  },
};

/** Smoke mode: every scenario once or twice, on small sizes, to check the harness works. */
const QUICK: ModelPlan = {
  setSteps: 2,
  targets: 4,
  calls: { warmup: 1, repeats: 2 },
  cold: { processes: 1, warmRepeats: 1 },
  scaling: { sizes: [1, 4, 8], steps: 1, repeats: 1 },
  chunk: 5,
  inversion: { processes: 1, steps: 2, offset: 1 },
  daemonRepeats: 1,
  options: ['threads-1'],
  opProfileRepeats: 1,
  vectorRepeats: 1,
  plainVsExport: { images: 4, processes: 1, warmup: 1, repeats: 2 },
};

export function planFor(modelId: string, quick: boolean): ModelPlan {
  return quick ? QUICK : FULL[modelId];
}

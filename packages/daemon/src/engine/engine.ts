import type { JobKind, ModelInfo, Phase, ResolvedOptions, VectorSummary } from '@styleset/protocol';
import type { FloatTensor } from '../model/tensor';

/**
 * The boundary between the service (queue, connections, storage) and the diffusion pipeline.
 * The server owns jobs and persistence; the engine only turns one validated job into images.
 */
export interface EngineJob {
  kind: JobKind;
  /**
   * One image each; for a `set` the first prompt is the reference, unless `referencePrompt` gives
   * one. Empty for an inversion.
   */
  prompts: string[];
  /**
   * Describes the reference image (`reference` and `inversion` jobs). On a `set`: a text reference
   * (a saved style's), generated in slot 0 of every batch with the seed of image 0; then every
   * prompt is an image in its style.
   */
  referencePrompt?: string;
  /**
   * The index in its set of the first prompt's image (default 0): prompt i is image firstIndex + i,
   * with its seed (seed + index) and its place in the set's batches. A saved style's jobs continue
   * the set it came from so.
   */
  firstIndex?: number;
  /** Images per U-Net batch exactly, to keep another run's batch layout (a style's set); see planBatches. */
  chunkSize?: number;
  /** A `reference` job's inverted trajectory, given (a saved style keeps its own): no inversion runs. */
  trajectory?: FloatTensor;
  /** A `reference` job that inverts its image hands the trajectory back in the outcome instead of keeping it in the data folder. */
  returnTrajectory?: boolean;
  /** The reference image's bytes (PNG or JPEG), when the job brought one. */
  referenceImage?: Uint8Array;
  /** A trajectory an earlier inversion produced (its `EngineOutcome.trajectoryKey`). */
  trajectoryKey?: string;
  /** Fully resolved: model id and seed chosen by the server; batch size left to the engine when absent. */
  options: ResolvedOptions & { model: string; seed: number };
  /** Starting latents, one row per prompt (the CLI's `--init-latents`; not part of the protocol). */
  initLatents?: FloatTensor;
}

export interface EngineProgress {
  phase: Phase;
  step: number;
  total: number;
  /** A small PNG of the set so far, every few steps, when asked for. */
  preview?: Uint8Array;
}

export interface EngineResult {
  index: number;
  prompt: string;
  seed: number;
  width: number;
  height: number;
  png: Uint8Array;
  /** Final latents [1, C, h, w] before VAE scaling is undone (for `--save-latents`). */
  latents: FloatTensor;
  /** With `background: 'transparent'`: whether the background was removed (the PNG has alpha). */
  transparent?: boolean;
  /** Why the background was kept although `transparent` was asked for. */
  warning?: string;
}

/** What set.json reports of an SVG (see vector/'s VectorStats). */
export interface EngineSvgStats {
  paths: number;
  subpaths: number;
  bytes: number;
  /** The fills it uses, `#rrggbb`, from its palette. */
  colours: string[];
  fidelity: 'smooth' | 'exact';
  errorQuantised: number;
  errorOriginal: number;
}

/** One image of a job that asked for SVG, in index order after the last image is decoded. */
export interface EngineSvg {
  index: number;
  prompt: string;
  seed: number;
  width: number;
  height: number;
  /** The SVG document (UTF-8); absent when it could not be made, and then `warning` says why. */
  svg?: Uint8Array;
  /** Why it is not what was asked: the background kept, or no SVG. */
  warning?: string;
  /** Index into the summary's `palettes`. */
  palette?: number;
  stats?: EngineSvgStats;
}

/** The SVGs of a set, made once every image is decoded (they share a palette). */
export interface EngineVectorSet {
  images: EngineSvg[];
  /** As `done` reports it: the palettes, each with its images; the images without an SVG. */
  summary: VectorSummary;
  /** Time spent making them, after the last image was decoded. */
  ms: number;
}

export interface EngineEvents {
  onProgress(progress: EngineProgress): void;
  /**
   * Awaited before the next image is produced. The daemon's runner only queues the image for
   * storing there (so that writing overlaps the next image's work) and waits for the queue before
   * the job ends.
   */
  onResult(result: EngineResult): Promise<void>;
  /**
   * For a job that asked for SVG (`format` `svg` or `both`): once, after the last image's
   * `onResult`, before the job ends. Every image's PNG went to `onResult` before, whatever the
   * format: a consumer that was asked for SVG alone still has the PNG of an image without one.
   */
  onVector?(set: EngineVectorSet): Promise<void>;
}

export interface EngineOutcome {
  /** Set by inversion and reference-image jobs: where the trajectory was kept, for reuse. */
  trajectoryKey?: string;
  /** The inverted trajectory, when the job asked for it back (`returnTrajectory`) and inverted its image. */
  trajectory?: FloatTensor;
  /**
   * Images per U-Net batch the set ran with, reference included (set and reference jobs; see
   * planBatches): what another run needs to lay its images out the same.
   */
  batchSize?: number;
  /** Milliseconds per phase. */
  timings: Partial<Record<Phase, number>>;
}

export interface Engine {
  listModels(): Promise<ModelInfo[]>;
  /** The model a job without `options.model` runs on. */
  readonly defaultModelId: string;
  /**
   * Runs one job to completion. Rejects with a `StylesetError` (stable `code`) on bad input or a
   * broken model, and with `CancelledError` soon after `signal` aborts (at the next step).
   */
  run(job: EngineJob, events: EngineEvents, signal: AbortSignal): Promise<EngineOutcome>;
  /** Releases every loaded model. */
  close(): Promise<void>;
}

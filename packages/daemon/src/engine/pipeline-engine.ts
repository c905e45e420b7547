import { resolve } from 'node:path';
import type { ModelInfo } from '@styleset/protocol';
import { CancelledError, InputError, StylesetError } from '../errors';
import { pixelsToRgb } from '../image/convert';
import { decodeImage } from '../image/decode';
import { encodePng } from '../image/png';
import { modelCacheDir } from '../model/derived-cache';
import type { RuntimeOptions } from '../model/runtime';
import type { FloatTensor } from '../model/tensor';
import { generateSet, setChunkSize, type GeneratedImage, type GenerateOptions, type RunControl } from '../pipeline/generate';
import { invertImage, type Trajectory } from '../pipeline/invert';
import { latentsToRgb, previewStrip, type LatentToRgb } from '../pipeline/latent-preview';
import { Pipeline } from '../pipeline/pipeline';
import { stepBoundary } from '../pipeline/step-boundary';
import { usesClassifierFreeGuidance } from '../pipeline/unet';
import { TrajectoryStore, trajectoryKey } from '../pipeline/trajectory-store';
import type { Engine, EngineEvents, EngineJob, EngineOutcome } from './engine';
import { batchMemoryBudget, defaultBatchSize, estimateHandedOnBytes, estimateRowBytes } from './batch-size';
import { ModelCatalog, modelKey, type EngineModel } from './model-catalog';
import { PhaseTimer } from './phase-timer';
import { needsVector, VectorStage, type VectorStageLimits } from './vector-stage';

export type { EngineModel } from './model-catalog';

export interface PipelineEngineOptions {
  models: EngineModel[];
  defaultModelId: string;
  runtime: RuntimeOptions;
  /** Where rewritten U-Nets and inverted trajectories are kept. */
  dataDir: string;
  /** Also offer the models installed in the data folder (`styleset pull`), as found at each lookup. */
  offerInstalledModels?: boolean;
  /** For tests of what happens past them; the protocol's otherwise. */
  vectorLimits?: VectorStageLimits;
  /** See PipelineLoadOptions.lockstep (default true). */
  lockstep?: boolean;
}

/**
 * The Engine on the real pipeline: models load on first use and stay warm; trajectories are kept
 * in the data folder so that a second set in the same style skips the inversion.
 */
export class PipelineEngine implements Engine {
  readonly defaultModelId: string;
  private readonly catalog: ModelCatalog;
  /** By model id, with the key of the files it was loaded from. */
  private readonly pipelines = new Map<string, { key: string; pipeline: Promise<Pipeline> }>();
  private readonly trajectories: TrajectoryStore;

  constructor(private readonly options: PipelineEngineOptions) {
    this.catalog = new ModelCatalog(options.models, options.defaultModelId, options.offerInstalledModels ? options.dataDir : undefined);
    this.defaultModelId = this.catalog.defaultModelId;
    this.trajectories = new TrajectoryStore(resolve(options.dataDir, 'trajectories'));
  }

  listModels(): Promise<ModelInfo[]> {
    return this.catalog.describe((id) => this.pipelines.has(id));
  }

  /** The models whose sessions are in memory (or loading). */
  loadedModels(): string[] {
    return [...this.pipelines.keys()];
  }

  async run(job: EngineJob, events: EngineEvents, signal: AbortSignal): Promise<EngineOutcome> {
    const timer = new PhaseTimer();
    let previewMap: LatentToRgb | undefined;
    const control: RunControl = {
      signal,
      onProgress: ({ phase, step, total, previewLatents }) => {
        timer.enter(phase);
        const preview = previewLatents && previewMap ? previewPng(previewMap, previewLatents) : undefined;
        events.onProgress({ phase, step, total, preview });
      },
    };
    control.onProgress!({ phase: 'loading', step: 0, total: 1 });
    // Loaded alongside the model; a plain PNG job loads none of it.
    const vector = job.kind !== 'inversion' && needsVector(job.options) ? VectorStage.open(job.options, this.options.vectorLimits) : undefined;
    // Awaited where it is used; until then a failure must not surface as an unhandled rejection.
    vector?.catch(() => undefined);
    const pipeline = await this.pipeline(job.options.model);
    // Previews are a courtesy: a decoder that cannot be fitted costs them, not the job.
    if (job.options.previewEvery !== undefined) previewMap = await pipeline.latentPreview().catch(() => undefined);
    control.onProgress!({ phase: 'loading', step: 1, total: 1 });
    if (signal.aborted) throw new CancelledError();

    let outcome: EngineOutcome = { timings: {} };
    if (job.kind === 'set') {
      const options = this.generateOptions(pipeline, job, job.prompts);
      outcome.batchSize = setChunkSize(options);
      await this.emit(pipeline, { ...options, chunkSize: outcome.batchSize }, events, control, vector);
    } else {
      const { trajectory, key, inverted } = await this.trajectory(pipeline, job, control);
      outcome = { trajectoryKey: key, timings: {}, ...(job.returnTrajectory && inverted && { trajectory }) };
      if (job.kind === 'reference') {
        const options = this.generateOptions(pipeline, job, job.prompts);
        options.reference = { prompt: job.referencePrompt!, trajectory, offset: job.options.inversionOffset };
        outcome.batchSize = setChunkSize(options);
        await this.emit(pipeline, { ...options, chunkSize: outcome.batchSize }, events, control, vector);
      }
    }
    const stage = await vector;
    if (stage?.wantsSvg) {
      // Not a phase of the protocol's: its time shows in the job's run time, not in decoding's.
      timer.leave();
      const set = await stage.svgs(() => stepBoundary(signal));
      await events.onVector?.(set);
    }
    return { ...outcome, timings: timer.finish() };
  }

  /** The stored trajectory of an inversion (`EngineOutcome.trajectoryKey`). */
  trajectoryFile(key: string): string {
    return this.trajectories.npyPath(key);
  }

  async close(): Promise<void> {
    const loaded = [...this.pipelines.values()];
    this.pipelines.clear();
    for (const p of loaded) await (await p.pipeline).release();
  }

  private async pipeline(id: string): Promise<Pipeline> {
    const model = await this.catalog.model(id);
    const key = modelKey(model);
    const held = this.pipelines.get(id);
    if (held?.key === key) return held.pipeline;
    if (held) {
      // Installed again under the same id since it was loaded: the old sessions go.
      this.pipelines.delete(id);
      await (await held.pipeline.catch(() => undefined))?.release();
    }
    const pipeline = Pipeline.load(model.dir, this.options.runtime, { cacheDir: modelCacheDir(resolve(this.options.dataDir)), lockstep: this.options.lockstep });
    this.pipelines.set(id, { key, pipeline });
    // A model that failed to load is retried on the next job rather than kept broken.
    pipeline.catch(() => {
      if (this.pipelines.get(id)?.pipeline === pipeline) this.pipelines.delete(id);
    });
    return pipeline;
  }

  private generateOptions(pipeline: Pipeline, job: EngineJob, prompts: string[]): GenerateOptions {
    const o = job.options;
    const count = prompts.length + (job.kind === 'reference' || job.referencePrompt !== undefined ? 1 : 0);
    const sharing = pipeline.sharing(o.shareAttention ? o : null);
    return {
      prompts,
      negativePrompt: o.negativePrompt,
      steps: o.steps,
      guidance: o.guidance,
      seed: o.seed,
      width: o.width,
      height: o.height,
      sampler: o.scheduler,
      batchSize: o.batchSize ?? this.defaultBatchSize(pipeline, o.width, o.height, o.guidance, count, sharing?.lockstep !== undefined),
      chunkSize: job.chunkSize,
      firstIndex: job.firstIndex,
      previewEvery: o.previewEvery,
      initLatents: job.initLatents,
      sharing,
      ...(job.kind === 'set' && job.referencePrompt !== undefined && { referencePrompt: job.referencePrompt }),
    };
  }

  /**
   * As many images as the memory the provider has holds (batch-size.ts says how that is
   * estimated); beside what the reference hands on when several batches run in lockstep.
   */
  private defaultBatchSize(pipeline: Pipeline, width: number, height: number, guidance: number, images: number, lockstep: boolean): number {
    const [, latentHeight, latentWidth] = pipeline.latentShape(width, height);
    const { topChannels, selfAttentionActivations } = pipeline.model.layout.unet;
    const shape = { latentHeight, latentWidth, topChannels, selfAttentionActivations };
    const rowsPerImage = usesClassifierFreeGuidance(pipeline.unet, guidance) ? 2 : 1;
    const needs = { images, rowsPerImage, rowBytes: estimateRowBytes(shape), ...(lockstep && { handedOnBytes: estimateHandedOnBytes(shape, rowsPerImage) }) };
    return defaultBatchSize(needs, batchMemoryBudget(this.options.runtime));
  }

  private async emit(pipeline: Pipeline, options: GenerateOptions, events: EngineEvents, control: RunControl, vector?: Promise<VectorStage>): Promise<void> {
    // An image goes out once the one before it has; its cut-out (vector output) is made on a
    // trace lane while the next image decodes.
    let previous: Promise<void> = Promise.resolve();
    try {
      for await (const image of generateSet(pipeline, options, control)) {
        await previous;
        previous = this.emitOne(image, events, vector);
        // Awaited once the next image is decoded: handled now, so that a failure meanwhile is
        // not taken for an unhandled one (which ends the process).
        previous.catch(() => undefined);
      }
    } catch (error) {
      // A job that stops (a cancel) still lets the image in flight go out, or fail, first.
      await previous.catch(() => undefined);
      throw error;
    }
    await previous;
  }

  private async emitOne(image: GeneratedImage, events: EngineEvents, vector?: Promise<VectorStage>): Promise<void> {
    const rgb = pixelsToRgb(image.pixels);
    const meta = { index: image.index, prompt: image.prompt, seed: image.seed };
    const shown = vector === undefined ? { image: rgb } : await (await vector).add(meta, rgb);
    await events.onResult({
      ...meta,
      width: rgb.width,
      height: rgb.height,
      png: encodePng(shown.image),
      latents: image.latents,
      ...('transparent' in shown && { transparent: shown.transparent }),
      ...('warning' in shown && shown.warning !== undefined && { warning: shown.warning }),
    });
  }

  /**
   * The job's trajectory: the one it brought, a stored one by key, a stored one for the same
   * inputs, or a fresh inversion (`inverted`), kept in the data folder unless handed back.
   */
  private async trajectory(pipeline: Pipeline, job: EngineJob, control: RunControl): Promise<{ trajectory: Trajectory; key?: string; inverted?: boolean }> {
    const o = job.options;
    if (job.trajectory) return { trajectory: job.trajectory };
    if (job.trajectoryKey) {
      const stored = await this.trajectories.load(job.trajectoryKey);
      if (!stored) throw new StylesetError('job_not_found', `the inversion's trajectory ${job.trajectoryKey} is no longer in the data folder`);
      return { trajectory: stored.trajectory, key: job.trajectoryKey };
    }
    if (!job.referenceImage || job.referencePrompt === undefined) {
      throw new InputError(`a ${job.kind} job needs a reference image and its prompt`);
    }
    const key = await trajectoryKey({
      imageBytes: job.referenceImage,
      prompt: job.referencePrompt,
      unetPath: pipeline.model.layout.unet.onnx,
      steps: o.steps,
      guidance: o.inversionGuidance,
      width: o.width,
      height: o.height,
    });
    const stored = job.returnTrajectory ? undefined : await this.trajectories.load(key);
    if (stored) return { trajectory: stored.trajectory, key };
    const image = decodeImage(job.referenceImage, 'the reference image');
    const trajectory = await invertImage(
      pipeline,
      { image, prompt: job.referencePrompt, steps: o.steps, guidance: o.inversionGuidance, width: o.width, height: o.height },
      control,
    );
    if (job.returnTrajectory) return { trajectory, inverted: true };
    await this.trajectories.save(
      { key, prompt: job.referencePrompt, steps: o.steps, guidance: o.inversionGuidance, width: o.width, height: o.height, unetPath: pipeline.model.layout.unet.onnx },
      trajectory,
    );
    return { trajectory, key, inverted: true };
  }
}

/** A batch's estimated images as one small PNG strip, without the VAE (see latent-preview.ts). */
function previewPng(map: LatentToRgb, latents: FloatTensor): Uint8Array {
  return encodePng(pixelsToRgb(previewStrip(latentsToRgb(map, latents))));
}

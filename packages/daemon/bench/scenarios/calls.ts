import { STYLE_ALIGNED_DEFAULTS } from '@styleset/protocol';
import type { InferenceSession } from 'onnxruntime-node';
import { concatBatch, type FloatTensor } from '../../src/model/tensor';
import { Pipeline } from '../../src/pipeline/pipeline';
import { stackConditioning } from '../../src/pipeline/text-conditioning';
import { usesClassifierFreeGuidance, type UnetCall } from '../../src/pipeline/unet';
import { GaussianSource } from '../../src/scheduler/noise';
import type { BenchModel } from '../models';
import { CPU, SEED, setPrompts } from './common';

/** Which U-Net a call runs: the export as it is, or the rewritten one with sharing off or on. */
export type UnetVariant = 'export' | 'plain' | 'shared';

export interface CallsSpec {
  kind: 'calls';
  model: BenchModel;
  unet: UnetVariant;
  cacheDir: string;
  /** Images in the set (reference included); with guidance the U-Net batch is twice that. */
  images: number;
  warmup: number;
  repeats: number;
  /** The session-option sweep: replaces `sessionOptions()` defaults. */
  sessionOverrides?: InferenceSession.SessionOptions;
  /** Run a float16 export as exported rather than from float32 copies. */
  keepFloat16?: boolean;
}

export interface CallsResult {
  batch: number;
  /** Pipeline.load: sessions (and the rewrite, unless cached). */
  loadMs: number;
  /** The first call after loading: ONNX Runtime plans memory for the shapes it sees first. */
  firstCallMs: number;
  callsMs: number[];
  /**
   * This process's CPU time (user and system, all its threads) per timed call: on a shared machine
   * it moves far less with other work than wall time does (absent in runs before it existed).
   */
  callsCpuMs?: number[];
}

/** Times single U-Net calls on the batch one sampling step of a set feeds it. */
export async function runCalls(spec: CallsSpec): Promise<CallsResult> {
  const runtime = { ...CPU, sessionOverrides: spec.sessionOverrides, keepFloat16: spec.keepFloat16 };
  const loadStarted = performance.now();
  const pipeline = await Pipeline.load(spec.model.dir, runtime, spec.unet === 'export' ? {} : { cacheDir: spec.cacheDir });
  const loadMs = performance.now() - loadStarted;
  const call = await unetCall(pipeline, spec.images, spec.unet);
  const { nativeWidth: width, nativeHeight: height } = pipeline.model.layout;
  const callsCpuMs: number[] = [];
  const timed = async () => {
    const cpu = process.cpuUsage();
    const started = performance.now();
    await pipeline.unet.predict(call, height, width);
    const wall = performance.now() - started;
    const used = process.cpuUsage(cpu);
    callsCpuMs.push((used.user + used.system) / 1000);
    return wall;
  };
  const firstCallMs = await timed();
  for (let i = 0; i < spec.warmup; i++) await timed();
  const callsMs: number[] = [];
  for (let i = 0; i < spec.repeats; i++) callsMs.push(await timed());
  await pipeline.release();
  return { batch: call.latents.dims[0], loadMs, firstCallMs, callsMs, callsCpuMs: callsCpuMs.slice(-spec.repeats) };
}

/** The inputs of one denoising step of a set of `images`, as `denoise` lays them out. */
export async function unetCall(pipeline: Pipeline, images: number, variant: UnetVariant): Promise<UnetCall> {
  const { layout } = pipeline.model;
  const guided = usesClassifierFreeGuidance(pipeline.unet, layout.defaults.guidance);
  const cond = await pipeline.conditioner.encode(setPrompts(images - 1));
  const conditioning = guided ? stackConditioning(await pipeline.conditioner.encode(new Array<string>(images).fill('')), cond) : cond;
  const shape = pipeline.latentShape(layout.nativeWidth, layout.nativeHeight);
  const noise = new GaussianSource(SEED);
  const half: FloatTensor = { data: noise.next(images * shape[0] * shape[1] * shape[2]), dims: [images, ...shape] };
  const sharing = pipeline.sharing(variant === 'shared' ? STYLE_ALIGNED_DEFAULTS : null);
  return {
    latents: guided ? concatBatch([half, half]) : half,
    // Mid-schedule: the cost of a call does not depend on the timestep.
    timestep: 500,
    hidden: conditioning.hidden,
    pooled: conditioning.pooled,
    extra: sharing?.feeds({ images, guided }),
    guidance: layout.defaults.guidance,
  };
}

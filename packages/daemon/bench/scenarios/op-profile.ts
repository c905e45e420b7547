import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { findProfile, opProfile, type OpProfile } from '../measure/ort-profile';
import type { BenchModel } from '../models';
import { Pipeline } from '../../src/pipeline/pipeline';
import { unetCall } from './calls';
import { CPU } from './common';

export interface OpProfileSpec {
  kind: 'op-profile';
  model: BenchModel;
  cacheDir: string;
  /** ONNX Runtime writes its profiles here. */
  profileDir: string;
  images: number;
  repeats: number;
}

export interface OpProfileResult {
  batch: number;
  plain: OpProfile;
  shared: OpProfile;
}

/**
 * ONNX Runtime's own operator profile of the rewritten U-Net, sharing off and on: which kernels
 * a call's time goes to, and how much of it the rewrite's nodes take.
 */
export async function runOpProfile(spec: OpProfileSpec): Promise<OpProfileResult> {
  await mkdir(spec.profileDir, { recursive: true });
  const runtime = { ...CPU, sessionOverrides: { enableProfiling: true, profileFilePrefix: join(spec.profileDir, 'ort') } };
  const pipeline = await Pipeline.load(spec.model.dir, runtime, { cacheDir: spec.cacheDir });
  const { nativeWidth: width, nativeHeight: height } = pipeline.model.layout;
  const plain = await unetCall(pipeline, spec.images, 'plain');
  const shared = await unetCall(pipeline, spec.images, 'shared');
  // One warm-up call of each, then the profiled ones: run indices [2, 2 + r) plain, then shared.
  for (const call of [plain, shared]) await pipeline.unet.predict(call, height, width);
  for (const call of [plain, shared]) for (let i = 0; i < spec.repeats; i++) await pipeline.unet.predict(call, height, width);
  // Releasing the session completes its profile file.
  await pipeline.release();
  const events = await findProfile(spec.profileDir, '/styleset/');
  return {
    batch: plain.latents.dims[0],
    plain: opProfile(events, 2, 2 + spec.repeats),
    shared: opProfile(events, 2 + spec.repeats, 2 + 2 * spec.repeats),
  };
}

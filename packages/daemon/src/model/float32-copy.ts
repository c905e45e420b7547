import { cachedDerivedModel, prepareDerivedModel, type Derivation } from './derived-cache';
import { OnnxModel } from './onnx-session';
import type { RuntimeOptions } from './runtime';

const FLOAT32_COPY: Derivation<Record<string, never>> = {
  kind: 'float32',
  version: 1,
  transform: (model) => ({ model, info: {} }),
  upcastFloat16: true,
};

/** Whether float16 exports run from float32 versions under this runtime: the CPU provider's default. */
export function upcastsFloat16(runtime: RuntimeOptions): boolean {
  return runtime.provider === 'cpu' && !runtime.keepFloat16;
}

/**
 * A session on `onnxPath`, or on its float32 copy when it is a float16 export and the provider is
 * the CPU: ONNX Runtime's CPU provider has few float16 kernels and wraps the rest in Casts, which
 * made a float16 U-Net 1.02–1.20x as slow as float32 in `npm run bench` (1.6x on the first
 * measurement, under load), against 1.01–1.10x for the copy; and float16 values between those
 * Casts can overflow where float32 would not. The copy is made once, in `cacheDir`.
 * Float32 exports cost one failed cache lookup (a stat).
 */
export async function loadForRuntime(onnxPath: string, runtime: RuntimeOptions, cacheDir: string | undefined): Promise<OnnxModel> {
  if (!upcastsFloat16(runtime) || cacheDir === undefined) return OnnxModel.load(onnxPath, runtime);
  const cached = await cachedDerivedModel(onnxPath, cacheDir, FLOAT32_COPY);
  if (cached) return OnnxModel.load(cached.path, runtime);
  // Whether it is float16 shows in the session's inputs and outputs, without parsing the model here.
  const session = await OnnxModel.load(onnxPath, runtime);
  if (!session.float16Io) return session;
  let copy: string;
  try {
    copy = (await prepareDerivedModel(onnxPath, cacheDir, FLOAT32_COPY)).path;
  } catch {
    // The copy only makes it faster: without room or rights for it, the export runs as it is.
    return session;
  }
  await session.release();
  return OnnxModel.load(copy, runtime);
}

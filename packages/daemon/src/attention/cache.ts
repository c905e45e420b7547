import { prepareDerivedModel, type Derivation } from '../model/derived-cache';
import { REWRITE_VERSION, rewriteSharedUnet, type SharedUnetInfo } from './rewrite';

export interface PreparedUnet extends SharedUnetInfo {
  /** The rewritten model.onnx, ready for a session. */
  path: string;
  /** Whether a float16 export was made to compute in float32 as well. */
  upcast: boolean;
}

export interface PrepareUnetOptions {
  /** Make a float16 export compute in float32 (for the CPU provider, which has few float16 kernels). */
  upcastFloat16?: boolean;
}

function sharedUnetDerivation(options: PrepareUnetOptions, lockstep: boolean): Derivation<SharedUnetInfo> {
  return {
    kind: lockstep ? 'lockstep-unet' : 'shared-unet',
    version: REWRITE_VERSION,
    transform: (model, source) => {
      const { model: rewritten, layerCount, groupNormCount } = rewriteSharedUnet(model, source, { lockstep });
      return { model: rewritten, info: { layerCount, groupNormCount } };
    },
    upcastFloat16: options.upcastFloat16 ?? false,
  };
}

/**
 * The U-Net with shared attention (see rewrite.ts), cached in `cacheDir` (see
 * model/derived-cache.ts): rewritten on the first call, and again only when the export changes.
 */
export async function prepareSharedUnet(sourceOnnxPath: string, cacheDir: string, options: PrepareUnetOptions = {}): Promise<PreparedUnet> {
  const { path, info, upcast } = await prepareDerivedModel(sourceOnnxPath, cacheDir, sharedUnetDerivation(options, false));
  return { path, ...info, upcast };
}

/**
 * The lockstep variant of the shared-attention U-Net (rewrite.ts, `lockstep`), for sets larger
 * than one batch; cached as the other is, in an entry of its own.
 */
export async function prepareLockstepUnet(sourceOnnxPath: string, cacheDir: string, options: PrepareUnetOptions = {}): Promise<PreparedUnet> {
  const { path, info, upcast } = await prepareDerivedModel(sourceOnnxPath, cacheDir, sharedUnetDerivation(options, true));
  return { path, ...info, upcast };
}

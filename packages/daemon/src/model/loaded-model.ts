import type { ModelLayout } from './layout';
import { loadForRuntime } from './float32-copy';
import { OnnxModel } from './onnx-session';
import type { RuntimeOptions } from './runtime';

export interface LoadedModelOptions {
  /** Replaces the export's U-Net with one already prepared for the runtime (the shared-attention rewrite, upcast where needed). */
  unetPath?: string;
  /** Where float32 copies of float16 components are kept for the CPU provider (see float32-copy.ts); none: run them as exported. */
  cacheDir?: string;
}

/**
 * A model folder with its ONNX Runtime sessions, created once and reused for every job.
 * The VAE encoder is only needed for reference images, so it loads on first use.
 */
export class LoadedModel {
  private vaeEncoderSession?: Promise<OnnxModel>;

  private constructor(
    readonly layout: ModelLayout,
    readonly runtime: RuntimeOptions,
    readonly textEncoders: OnnxModel[],
    readonly unet: OnnxModel,
    readonly vaeDecoder: OnnxModel,
    private readonly cacheDir: string | undefined,
  ) {}

  static async load(layout: ModelLayout, runtime: RuntimeOptions, options: LoadedModelOptions = {}): Promise<LoadedModel> {
    const { cacheDir } = options;
    const textEncoders = await Promise.all(layout.textEncoders.map((e) => loadForRuntime(e.onnx, runtime, cacheDir)));
    const unet = options.unetPath ? await OnnxModel.load(options.unetPath, runtime) : await loadForRuntime(layout.unet.onnx, runtime, cacheDir);
    const vaeDecoder = await loadForRuntime(layout.vaeDecoder.onnx, runtime, cacheDir);
    return new LoadedModel(layout, runtime, textEncoders, unet, vaeDecoder, cacheDir);
  }

  /** Undefined when the export has no VAE encoder. */
  vaeEncoder(): Promise<OnnxModel> | undefined {
    const entry = this.layout.vaeEncoder;
    if (!entry) return undefined;
    this.vaeEncoderSession ??= loadForRuntime(entry.onnx, this.runtime, this.cacheDir);
    return this.vaeEncoderSession;
  }

  async release(): Promise<void> {
    const sessions = [...this.textEncoders, this.unet, this.vaeDecoder];
    if (this.vaeEncoderSession) sessions.push(await this.vaeEncoderSession);
    await Promise.all(sessions.map((s) => s.release()));
  }
}

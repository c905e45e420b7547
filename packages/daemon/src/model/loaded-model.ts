import type { ModelLayout } from './layout';
import { OnnxModel } from './onnx-session';
import type { RuntimeOptions } from './runtime';

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
  ) {}

  /** `unetPath` replaces the export's U-Net (with its shared-attention rewrite). */
  static async load(layout: ModelLayout, runtime: RuntimeOptions, unetPath = layout.unet.onnx): Promise<LoadedModel> {
    const textEncoders = await Promise.all(layout.textEncoders.map((e) => OnnxModel.load(e.onnx, runtime)));
    const unet = await OnnxModel.load(unetPath, runtime);
    const vaeDecoder = await OnnxModel.load(layout.vaeDecoder.onnx, runtime);
    return new LoadedModel(layout, runtime, textEncoders, unet, vaeDecoder);
  }

  /** Undefined when the export has no VAE encoder. */
  vaeEncoder(): Promise<OnnxModel> | undefined {
    const entry = this.layout.vaeEncoder;
    if (!entry) return undefined;
    this.vaeEncoderSession ??= OnnxModel.load(entry.onnx, this.runtime);
    return this.vaeEncoderSession;
  }

  async release(): Promise<void> {
    const sessions = [...this.textEncoders, this.unet, this.vaeDecoder];
    if (this.vaeEncoderSession) sessions.push(await this.vaeEncoderSession);
    await Promise.all(sessions.map((s) => s.release()));
  }
}

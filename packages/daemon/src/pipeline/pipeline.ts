import { InputError } from '../errors';
import { LoadedModel } from '../model/loaded-model';
import type { RuntimeOptions } from '../model/runtime';
import { TextConditioner } from './text-conditioning';
import { UnetRunner } from './unet';

/** A loaded model ready to sample: sessions, text conditioning and the U-Net's input forms. */
export class Pipeline {
  private constructor(
    readonly model: LoadedModel,
    readonly conditioner: TextConditioner,
    readonly unet: UnetRunner,
  ) {}

  static async load(dir: string, runtime: RuntimeOptions, unetPath?: string): Promise<Pipeline> {
    const model = await LoadedModel.load(dir, runtime, unetPath);
    const conditioner = await TextConditioner.create(model.layout, model.textEncoders);
    return new Pipeline(model, conditioner, new UnetRunner(model.unet, model.layout));
  }

  /** Latent [C, h, w] for a pixel size; sizes must be whole multiples of the VAE's downscale. */
  latentShape(width: number, height: number): [number, number, number] {
    const { downscale, latentChannels } = this.model.layout.vae;
    for (const [name, v] of [['width', width], ['height', height]] as const) {
      if (!Number.isInteger(v) || v <= 0 || v % downscale !== 0) {
        throw new InputError(`${name} ${v} must be a positive multiple of ${downscale} for this model`);
      }
    }
    return [latentChannels, height / downscale, width / downscale];
  }

  release(): Promise<void> {
    return this.model.release();
  }
}

import {
  prepareLockstepUnet,
  prepareSharedUnet,
  referenceBatchFeeds,
  referenceOutputs,
  sharingFeeds,
  targetBatchFeeds,
  type PreparedUnet,
  type SharingOptions,
} from '../attention';
import { InputError, ModelError } from '../errors';
import { upcastsFloat16 } from '../model/float32-copy';
import { readModelLayout } from '../model/layout';
import { LoadedModel } from '../model/loaded-model';
import { OnnxModel } from '../model/onnx-session';
import type { RuntimeOptions } from '../model/runtime';
import type { SetSharing } from './generate';
import { blockNoiseLatents, fitLatentToRgb, type LatentToRgb } from './latent-preview';
import { TextConditioner } from './text-conditioning';
import { UnetRunner } from './unet';
import { decodeLatents } from './vae';

export interface PipelineLoadOptions {
  /**
   * Where models derived from the export are cached: the shared-attention rewrite of the U-Net,
   * and on the CPU provider float32 versions of float16 exports. Without it the export runs as is.
   */
  cacheDir?: string;
  /**
   * Whether shared sets larger than one batch run their batches in lockstep, the reference's
   * once per step (default true); false gives every batch the reference (the chunking before
   * lockstep, which `bench/reference-once.ts` compares against).
   */
  lockstep?: boolean;
}

/**
 * A loaded model ready to sample: sessions, text conditioning, the U-Net's input forms and, when
 * the U-Net could be rewritten, shared attention. One rewritten session serves plain and shared
 * sets alike (sharing off reproduces the export), so options never rebuild a session.
 */
export class Pipeline {
  private constructor(
    readonly model: LoadedModel,
    readonly conditioner: TextConditioner,
    readonly unet: UnetRunner,
    private readonly sharedUnet: PreparedUnet | undefined,
    /** Why shared attention is unavailable, for the job that asks for it. */
    private readonly sharingUnavailable: ModelError | undefined,
    private readonly cacheDir: string | undefined,
    private readonly lockstepOn: boolean,
  ) {}

  private previewMap?: Promise<LatentToRgb>;
  /** The lockstep U-Net's session, loaded when a shared set first needs several batches. */
  private lockstepRunner?: Promise<UnetRunner>;

  static async load(dir: string, runtime: RuntimeOptions, options: PipelineLoadOptions = {}): Promise<Pipeline> {
    const layout = await readModelLayout(dir);
    let sharedUnet: PreparedUnet | undefined;
    let unavailable: ModelError | undefined;
    if (options.cacheDir) {
      try {
        sharedUnet = await prepareSharedUnet(layout.unet.onnx, options.cacheDir, { upcastFloat16: upcastsFloat16(runtime) });
      } catch (err) {
        // An export without recognisable self-attention still generates plain sets.
        if (!(err instanceof ModelError)) throw err;
        unavailable = err;
      }
    } else {
      unavailable = new ModelError('shared attention needs the rewritten U-Net, and no cache folder was given for it');
    }
    const model = await LoadedModel.load(layout, runtime, { unetPath: sharedUnet?.path, cacheDir: options.cacheDir });
    const conditioner = await TextConditioner.create(layout, model.textEncoders);
    return new Pipeline(model, conditioner, new UnetRunner(model.unet, layout), sharedUnet, unavailable, options.cacheDir, options.lockstep ?? true);
  }

  /**
   * The U-Net controls for a set: `null` options generate plainly. Undefined when the U-Net is the
   * unmodified export and no sharing is asked for.
   */
  sharing(options: SharingOptions | null): SetSharing | undefined {
    const unet = this.sharedUnet;
    if (!unet) {
      if (options === null) return undefined;
      throw this.sharingUnavailable!;
    }
    const feeds = (layout: { images: number; guided: boolean }) => sharingFeeds(options, unet, layout);
    if (options === null || options.fullAttentionShare || !this.lockstepOn) return { active: options !== null, fullAttentionShare: options?.fullAttentionShare === true, feeds };
    return {
      active: true,
      feeds,
      lockstep: {
        unet: () => this.lockstepUnet(),
        referenceFeeds: (layout) => referenceBatchFeeds(options, unet, layout),
        handedOn: referenceOutputs(unet),
        targetFeeds: (layout, handedOn) => targetBatchFeeds(options, unet, layout, handedOn),
      },
    };
  }

  /**
   * The session of the lockstep variant (attention/lockstep-graph.ts), created when a set first
   * needs more than one batch. It and the one-batch U-Net's session are held in turn (see
   * OnnxModel.exclusiveWith), so the weights are in memory once: switching between one-batch and
   * lockstep sets creates a session again.
   */
  private lockstepUnet(): Promise<UnetRunner> {
    this.lockstepRunner ??= (async () => {
      const prepared = await prepareLockstepUnet(this.model.layout.unet.onnx, this.cacheDir!, { upcastFloat16: this.sharedUnet!.upcast });
      await this.model.unet.suspend();
      const model = await OnnxModel.load(prepared.path, this.model.runtime);
      model.exclusiveWith(this.model.unet);
      return new UnetRunner(model, this.model.layout);
    })();
    // A failed load is tried again by the next set.
    this.lockstepRunner.catch(() => (this.lockstepRunner = undefined));
    return this.lockstepRunner;
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

  /** The latent-to-colour map for progress previews, fitted to this model's decoder on first use. */
  latentPreview(): Promise<LatentToRgb> {
    this.previewMap ??= this.fitLatentPreview();
    return this.previewMap;
  }

  async release(): Promise<void> {
    const lockstep = await this.lockstepRunner?.catch(() => undefined);
    this.lockstepRunner = undefined;
    await lockstep?.model.release();
    await this.model.release();
  }

  private async fitLatentPreview(): Promise<LatentToRgb> {
    // 8 latents of 2x2 constant blocks: 32 colours for at most 17 unknowns per colour.
    const latents = blockNoiseLatents(this.model.layout.vae.latentChannels);
    return fitLatentToRgb(latents, await decodeLatents(this.model.vaeDecoder, this.model.layout, latents));
  }
}

import { estimateRowBytes } from '../src/engine/batch-size';
import { readModelLayout } from '../src/model/layout';
import type { BenchModel } from './models';
import type { MemoryEstimate } from './results';

/**
 * What the engine's default batch size assumes one U-Net row of this model costs, at its native
 * size and default guidance (what the scaling scenario runs), for the report to hold against the
 * peaks measured there.
 */
export async function memoryEstimate(model: BenchModel): Promise<MemoryEstimate> {
  const layout = await readModelLayout(model.dir);
  const latent = layout.unet.sampleSize;
  const guided = layout.unet.guidanceEmbedDim === undefined && layout.defaults.guidance > 1;
  return {
    rowBytes: estimateRowBytes({ latentHeight: latent, latentWidth: latent, topChannels: layout.unet.topChannels }),
    rowsPerImage: guided ? 2 : 1,
  };
}

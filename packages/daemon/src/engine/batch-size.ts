/**
 * Images per U-Net batch, reference included, when the job leaves it open. Larger batches
 * amortise per-call overhead and the reference's own rows, until the activations stop fitting in
 * cache and memory. In `npm run bench` time per image stopped falling at about 16 targets on
 * every model (one batch of 33 images against 17: -4% to +5% over three runs), while peak memory
 * kept growing with the batch (a 32-target set in one batch: 1.06 GB on the large tiny SD 1.x
 * model, 2.6 GB on the SDXL-shaped one; in two batches of 17: 0.66 and 1.6 GB). So at most 17
 * images (16 targets and the reference), and at most 2^20 pixels of images (SD 1.5's 512x512
 * images: 4; SDXL's 1024x1024: 2).
 */
export const MAX_BATCH_IMAGES = 17;
const MAX_BATCH_PIXELS = 1 << 20;

export function defaultBatchSize(pixelsPerImage: number, images: number): number {
  const bySize = Math.max(2, Math.floor(MAX_BATCH_PIXELS / pixelsPerImage));
  return Math.max(1, Math.min(images, bySize, MAX_BATCH_IMAGES));
}

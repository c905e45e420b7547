/**
 * Images per U-Net batch, reference included, when the job leaves it open. Larger batches
 * amortise per-call overhead and the reference's own rows, until the activations stop fitting in
 * cache and memory. `npm run bench` measured per-image time flat from 8 to 16 targets on every
 * model and, in one batch of 33 images, 5% up on the SDXL-shaped one with memory still growing
 * linearly: so at most 17 images (16 targets and the reference), and at most 2^20 pixels of images
 * (the default icon model's 64x64 icons: 17; SD 1.5's 512x512 images: 4).
 */
export const MAX_BATCH_IMAGES = 17;
const MAX_BATCH_PIXELS = 1 << 20;

export function defaultBatchSize(pixelsPerImage: number, images: number): number {
  const bySize = Math.max(2, Math.floor(MAX_BATCH_PIXELS / pixelsPerImage));
  return Math.max(1, Math.min(images, bySize, MAX_BATCH_IMAGES));
}

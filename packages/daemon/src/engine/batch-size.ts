/**
 * Images per U-Net batch when the job leaves it open. Larger batches amortise per-call overhead
 * until the activations stop fitting in cache and memory; the bound is in latent-pixel-images
 * (the default icon model's 64x64 images allow ~32 per batch, SD 1.5's 512x512 four).
 */
export function defaultBatchSize(pixelsPerImage: number, images: number): number {
  const bySize = Math.max(2, Math.floor((1 << 20) / pixelsPerImage));
  return Math.max(1, Math.min(images, bySize));
}

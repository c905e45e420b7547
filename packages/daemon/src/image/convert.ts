import type { FloatTensor } from '../model/tensor';
import type { Image8 } from './image8';

/**
 * RGB images of one size -> the VAE's input: float NCHW [n, 3, H, W], v / 127.5 - 1 in [-1, 1].
 * An alpha channel, if any, is ignored (decoders already composite it).
 */
export function rgbToPixels(images: readonly Image8[]): FloatTensor {
  if (images.length === 0) throw new Error('rgbToPixels needs at least one image');
  const { width, height } = images[0];
  const plane = width * height;
  const data = new Float32Array(images.length * 3 * plane);
  images.forEach((image, n) => {
    if (image.width !== width || image.height !== height) {
      throw new Error(`images differ in size: ${image.width}x${image.height} vs ${width}x${height}`);
    }
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) data[(n * 3 + c) * plane + p] = image.data[p * image.channels + c] / 127.5 - 1;
    }
  });
  return { data, dims: [images.length, 3, height, width] };
}

/**
 * Item `index` of the VAE's output [n, 3, H, W] -> an RGB image, as diffusers' postprocessing:
 * round(clamp(x / 2 + 0.5, 0, 1) · 255).
 */
export function pixelsToRgb(pixels: FloatTensor, index = 0): Image8 {
  const [n, channels, height, width] = pixels.dims;
  if (pixels.dims.length !== 4 || channels !== 3 || !(index >= 0 && index < n)) {
    throw new Error(`expected pixels [n, 3, H, W] and an index below n; got [${pixels.dims.join(', ')}] and ${index}`);
  }
  const plane = width * height;
  const data = new Uint8Array(plane * 3);
  for (let c = 0; c < 3; c++) {
    const base = (index * 3 + c) * plane;
    for (let p = 0; p < plane; p++) {
      const v = pixels.data[base + p] / 2 + 0.5;
      data[p * 3 + c] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
  }
  return { width, height, channels: 3, data };
}

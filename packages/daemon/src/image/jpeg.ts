import jpeg from 'jpeg-js';
import { InputError } from '../errors';
import type { DecodeLimits, Image8 } from './image8';

/** jpeg-js counts every buffer it allocates; a decode needs a few bytes per pixel beyond the output. */
const BYTES_PER_PIXEL_BUDGET = 16;

/** A baseline or progressive JPEG (grey, YCbCr, CMYK) as 8-bit RGB. EXIF orientation is not applied. */
export function decodeJpeg(bytes: Uint8Array, source: string, limits: DecodeLimits): Image8 {
  try {
    const { width, height, data } = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      maxResolutionInMP: limits.maxPixels / 1e6,
      maxMemoryUsageInMB: Math.ceil((limits.maxPixels * BYTES_PER_PIXEL_BUDGET) / 2 ** 20),
    });
    return { width, height, channels: 3, data };
  } catch (e) {
    const message = (e as Error).message;
    if (/maxResolutionInMP|maxMemoryUsageInMB/.test(message)) {
      throw new InputError(`${source}: the image is larger than the limit of ${limits.maxPixels} pixels`, { cause: e });
    }
    throw new InputError(`${source}: not a readable JPEG image (${message})`, { cause: e });
  }
}

import jpeg from 'jpeg-js';
import { InputError } from '../errors';
import type { DecodeLimits, Image8 } from './image8';
import { readJpegStructure } from './jpeg-structure';

/** jpeg-js counts every buffer it allocates; a decode needs a few bytes per pixel beyond the output. */
const BYTES_PER_PIXEL_BUDGET = 16;

/**
 * A baseline or progressive JPEG (grey, YCbCr, CMYK) as 8-bit RGB. EXIF orientation is not applied.
 * The file's structure is checked first (a cut-off file is named as such; the decoder would
 * otherwise fill the missing part) and the size limit applied from its frame header. The codec's
 * own error text is never shown: it describes the decoder's state, not the file.
 */
export function decodeJpeg(bytes: Uint8Array, source: string, limits: DecodeLimits): Image8 {
  const header = readJpegStructure(bytes, source, { headerOnly: true });
  const pixels = header.width * header.height;
  if (pixels > limits.maxPixels) {
    throw new InputError(`${source}: the image has ${pixels} pixels, more than the limit of ${limits.maxPixels}`);
  }
  readJpegStructure(bytes, source);
  try {
    const { width, height, data } = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      maxResolutionInMP: limits.maxPixels / 1e6,
      maxMemoryUsageInMB: Math.ceil((limits.maxPixels * BYTES_PER_PIXEL_BUDGET) / 2 ** 20),
    });
    return { width, height, channels: 3, data };
  } catch (e) {
    if (/maxMemoryUsageInMB/.test((e as Error).message)) {
      throw new InputError(`${source}: decoding the image would take more memory than an image of ${limits.maxPixels} pixels may`, { cause: e });
    }
    throw new InputError(`${source}: the JPEG file is damaged: its compressed image data cannot be decoded`, { cause: e });
  }
}

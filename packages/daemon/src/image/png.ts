import { PNG } from 'pngjs';
import { InputError } from '../errors';
import type { DecodeLimits, Image8 } from './image8';
import { readPngStructure } from './png-structure';

/** PNG of an RGB or RGBA image, 8 bits per channel. */
export function encodePng(image: Image8): Buffer {
  const colorType = image.channels === 4 ? 6 : 2;
  const png = new PNG({ width: image.width, height: image.height });
  png.data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return PNG.sync.write(png, { colorType, inputColorType: colorType, inputHasAlpha: image.channels === 4 });
}

/**
 * Any PNG pngjs reads (grey, palette, 16-bit, interlaced, with or without alpha) as 8-bit RGB,
 * transparent pixels composited on white: c' = round((c·a + 255·(255 - a)) / 255). The file's
 * structure is checked first (a cut-off or damaged file is named as such) and the size limit is
 * applied from its header, before any pixel is decoded. The codec's own error text is never shown:
 * it describes the codec's state ("read requests waiting on finished stream"), not the file.
 */
export function decodePng(bytes: Uint8Array, source: string, limits: DecodeLimits): Image8 {
  const header = readPngStructure(bytes, source, { headerOnly: true });
  const pixels = header.width * header.height;
  if (pixels > limits.maxPixels) {
    throw new InputError(`${source}: the image has ${pixels} pixels, more than the limit of ${limits.maxPixels}`);
  }
  readPngStructure(bytes, source);
  let decoded: { width: number; height: number; data: Buffer };
  try {
    decoded = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (e) {
    throw new InputError(`${source}: the PNG file is damaged: its compressed image data cannot be decoded`, { cause: e });
  }
  const { width, height, data: rgba } = decoded;
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    const a = rgba[4 * p + 3];
    for (let c = 0; c < 3; c++) data[3 * p + c] = Math.round((rgba[4 * p + c] * a + 255 * (255 - a)) / 255);
  }
  return { width, height, channels: 3, data };
}

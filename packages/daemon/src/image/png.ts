import { PNG } from 'pngjs';
import { InputError } from '../errors';
import type { DecodeLimits, Image8 } from './image8';

/** PNG of an RGB or RGBA image, 8 bits per channel. */
export function encodePng(image: Image8): Buffer {
  const colorType = image.channels === 4 ? 6 : 2;
  const png = new PNG({ width: image.width, height: image.height });
  png.data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return PNG.sync.write(png, { colorType, inputColorType: colorType, inputHasAlpha: image.channels === 4 });
}

/** Width x height from the IHDR chunk, read before decoding so the size limit costs nothing. */
function headerPixels(bytes: Uint8Array): number | undefined {
  if (bytes.length < 24 || String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return view.getUint32(16) * view.getUint32(20);
}

/**
 * Any PNG pngjs reads (grey, palette, 16-bit, interlaced, with or without alpha) as 8-bit RGB,
 * transparent pixels composited on white: c' = round((c·a + 255·(255 - a)) / 255).
 */
export function decodePng(bytes: Uint8Array, source: string, limits: DecodeLimits): Image8 {
  const pixels = headerPixels(bytes);
  if (pixels !== undefined && pixels > limits.maxPixels) {
    throw new InputError(`${source}: the image has ${pixels} pixels, more than the limit of ${limits.maxPixels}`);
  }
  let decoded: { width: number; height: number; data: Buffer };
  try {
    decoded = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (e) {
    throw new InputError(`${source}: not a readable PNG image (${(e as Error).message})`, { cause: e });
  }
  const { width, height, data: rgba } = decoded;
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    const a = rgba[4 * p + 3];
    for (let c = 0; c < 3; c++) data[3 * p + c] = Math.round((rgba[4 * p + c] * a + 255 * (255 - a)) / 255);
  }
  return { width, height, channels: 3, data };
}

import { DEFAULT_DECODE_LIMITS, type DecodeLimits, type Image8 } from './image8';
import { decodeJpeg } from './jpeg';
import { decodePng } from './png';
import { sniffImageFormat } from './sniff';

/** A PNG or JPEG (told apart by magic bytes) as 8-bit RGB; `source` names it in errors. */
export function decodeImage(bytes: Uint8Array, source: string, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): Image8 {
  return sniffImageFormat(bytes, source) === 'png' ? decodePng(bytes, source, limits) : decodeJpeg(bytes, source, limits);
}

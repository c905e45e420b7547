import { LIMITS, type ImageMimeType } from '@styleset/protocol';
import { InputError } from '../errors';
import { sniffImageFormat } from '../image/sniff';
import { RequestError } from './request-error';

const FIELD = 'attachment';

/**
 * Checks a reference image from its header alone, before it waits in the queue: a decompression
 * bomb (a small file of huge dimensions) is refused without decoding a pixel. The bound is the
 * largest size a job may have (`limits.size.max` in `welcome`), so a decoded image stays within
 * size.max² pixels.
 */
export function checkReferenceImage(bytes: Uint8Array, mime: ImageMimeType): void {
  let format: 'png' | 'jpeg';
  try {
    format = sniffImageFormat(bytes, FIELD);
  } catch (error) {
    if (error instanceof InputError) throw new RequestError('invalid_input', error.message, FIELD);
    throw error;
  }
  if (`image/${format}` !== mime) {
    throw new RequestError('invalid_input', `attachment.mime says ${mime} but the bytes are a ${format.toUpperCase()} image`, 'attachment.mime');
  }
  const size = format === 'png' ? pngSize(bytes) : jpegSize(bytes);
  if (size === undefined) {
    throw new RequestError('invalid_input', `attachment: the ${format.toUpperCase()} header is truncated or malformed`, FIELD);
  }
  const max = LIMITS.size.max;
  if (size.width > max || size.height > max) {
    throw new RequestError(
      'too_large',
      `attachment: the reference image is ${size.width}x${size.height} pixels; at most ${max} per side is accepted (limits.size.max)`,
      FIELD,
    );
  }
  if (size.width === 0 || size.height === 0) {
    throw new RequestError('invalid_input', `attachment: the reference image is ${size.width}x${size.height} pixels`, FIELD);
  }
}

interface Size {
  width: number;
  height: number;
}

function pngSize(bytes: Uint8Array): Size | undefined {
  if (bytes.length < 24 || String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/** Walks the marker segments to the first start-of-frame (SOF0..SOF15 less DHT, JPG and DAC). */
function jpegSize(bytes: Uint8Array): Size | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 2;
  while (offset + 9 <= bytes.length) {
    if (bytes[offset] !== 0xff) return undefined;
    const marker = bytes[offset + 1];
    // Fill bytes and the standalone markers (TEM, RSTn) have no length.
    if (marker === 0xff) {
      offset += 1;
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      offset += 2;
      continue;
    }
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) return { height: view.getUint16(offset + 5), width: view.getUint16(offset + 7) };
    offset += 2 + view.getUint16(offset + 2);
  }
  return undefined;
}

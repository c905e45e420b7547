import { InputError } from '../errors';

export type ImageFormat = 'png' | 'jpeg';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_SOI = [0xff, 0xd8, 0xff];

const startsWith = (bytes: Uint8Array, magic: readonly number[]) => bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);

/** The format by magic bytes (file names and MIME types are not trusted). */
export function sniffImageFormat(bytes: Uint8Array, source: string): ImageFormat {
  if (startsWith(bytes, PNG_SIGNATURE)) return 'png';
  if (startsWith(bytes, JPEG_SOI)) return 'jpeg';
  if (bytes.length === 0) throw new InputError(`${source}: the file is empty; expected a PNG or JPEG image`);
  const head = [...bytes.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new InputError(`${source}: not a PNG or JPEG image (it starts with bytes ${head})`);
}

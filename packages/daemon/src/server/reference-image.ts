import { LIMITS, type ImageMimeType } from '@styleset/protocol';
import { InputError } from '../errors';
import { decodeImage } from '../image/decode';
import { readJpegStructure } from '../image/jpeg-structure';
import { readPngStructure } from '../image/png-structure';
import { sniffImageFormat } from '../image/sniff';
import { RequestError } from './request-error';

const FIELD = 'attachment';

/**
 * Checks a reference image before it waits in the queue, so that a bad one is refused with the
 * request that brought it, naming `attachment`, instead of failing the job later. First its
 * header: a decompression bomb (a small file of huge dimensions) is refused without decoding a
 * pixel, the bound being the largest size a job may have (`limits.size.max` in `welcome`). Then
 * the whole file's structure and a full decode, which find a file cut short and damaged image
 * data. The decode blocks the event loop while it runs (measured on a busy 2-core machine: 0.2 to
 * 0.35 s for a 2048x2048 PNG, 0.85 to 1.2 s for a 2048x2048 JPEG), once per reference image.
 */
export function checkReferenceImage(bytes: Uint8Array, mime: ImageMimeType): void {
  const format = asRequestError(() => sniffImageFormat(bytes, FIELD));
  if (`image/${format}` !== mime) {
    throw new RequestError('invalid_input', `attachment.mime says ${mime} but the bytes are a ${format.toUpperCase()} image`, 'attachment.mime');
  }
  const size = asRequestError(() => (format === 'png' ? readPngStructure : readJpegStructure)(bytes, FIELD, { headerOnly: true }));
  const max = LIMITS.size.max;
  if (size.width > max || size.height > max) {
    throw new RequestError(
      'too_large',
      `attachment: the reference image is ${size.width}x${size.height} pixels; at most ${max} per side is accepted (limits.size.max)`,
      FIELD,
    );
  }
  asRequestError(() => decodeImage(bytes, FIELD, { maxPixels: max * max }));
}

/** The image modules' InputErrors start with the source they were given: here, `attachment`. */
function asRequestError<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof InputError) throw new RequestError('invalid_input', error.message, FIELD);
    throw error;
  }
}

import { LIMITS, type ImageMimeType } from '@styleset/protocol';
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { isInside } from './paths';
import { imagePrompt } from './prompts';
import type { SetStyle } from './runner';

/** The style image cannot be used; `field` is the setting to correct. */
export class StyleImageError extends Error {
  readonly code = 'style_image_unusable';
  readonly field = 'styleset.styleImage';

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StyleImageError';
  }
}

/**
 * Where the workspace's sets take their style from, in order: the image `styleset.styleImage`
 * names (set by "Use as Styleset style"); the style the daemon keeps under the name
 * `styleset.savedStyle` gives (set by "Use a saved style from the daemon"); else the first image
 * of each set. The image comes first because it is a file of the project itself.
 */
export async function workspaceStyle(settings: { styleImage: string; savedStyle: string }, folder: string): Promise<SetStyle> {
  const relative = settings.styleImage.trim();
  if (relative !== '') return { kind: 'image', ...(await readStyleImage(relative, folder)) };
  const name = settings.savedStyle.trim();
  return name === '' ? { kind: 'first' } : { kind: 'saved', name };
}

/** The style image's bytes, checked as the daemon will check them, and the prompt that describes it. */
export async function readStyleImage(relative: string, folder: string): Promise<{ image: { bytes: Uint8Array; mime: ImageMimeType }; prompt: string }> {
  const path = isAbsolute(relative) ? relative : join(folder, relative);
  if (!isInside(folder, path)) throw new StyleImageError(`styleset.styleImage: ${relative} is outside the workspace folder`);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new StyleImageError(`styleset.styleImage: ${missing ? `there is no ${relative}` : `cannot read ${relative}: ${(error as Error).message}`}`, { cause: error });
  }
  const mime = sniffMime(bytes);
  if (mime === undefined) throw new StyleImageError(`styleset.styleImage: ${relative} is not a PNG or JPEG image`);
  if (bytes.byteLength > LIMITS.maxImageBytes) {
    throw new StyleImageError(`styleset.styleImage: ${relative} is ${Math.ceil(bytes.byteLength / 2 ** 20)} MiB; the daemon takes at most ${LIMITS.maxImageBytes / 2 ** 20} MiB`);
  }
  // From the file name, so it stays the same from set to set and the daemon's inversion is reused.
  return { image: { bytes, mime }, prompt: imagePrompt({ target: path }) };
}

/** The daemon takes PNG and JPEG reference images; the bytes say which, whatever the name says. */
export function sniffMime(bytes: Uint8Array): ImageMimeType | undefined {
  if (bytes.length >= 8 && [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((byte, i) => bytes[i] === byte)) return 'image/png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  return undefined;
}

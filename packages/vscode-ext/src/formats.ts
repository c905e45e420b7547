import { extname } from 'node:path';

/** The file formats Styleset writes, by the extension a reference names. */
export type ImageFormat = 'png' | 'jpeg' | 'webp';

const FORMATS: Record<string, ImageFormat> = {
  '.png': 'png',
  '.jpg': 'jpeg',
  '.jpeg': 'jpeg',
  '.webp': 'webp',
};

/** The format a path's extension asks for, or undefined for one Styleset does not write (GIF, AVIF, SVG). */
export function imageFormatOf(path: string): ImageFormat | undefined {
  return FORMATS[extname(path).toLowerCase()];
}

/** "GIF" for `a.gif`: how the skipped reason names the format. */
export function formatName(path: string): string {
  return extname(path).slice(1).toUpperCase() || 'extension-less';
}

export const WRITTEN_FORMATS_TEXT = 'PNG, JPEG and WebP';

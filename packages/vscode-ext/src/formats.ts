import { extname } from 'node:path';

/** The file formats Styleset writes, by the extension a reference names. */
export type ImageFormat = 'png' | 'jpeg' | 'webp' | 'svg';

const FORMATS: Record<string, ImageFormat> = {
  '.png': 'png',
  '.jpg': 'jpeg',
  '.jpeg': 'jpeg',
  '.webp': 'webp',
  '.svg': 'svg',
};

/** The format a path's extension asks for, or undefined for one Styleset does not write (GIF, AVIF). */
export function imageFormatOf(path: string): ImageFormat | undefined {
  return FORMATS[extname(path).toLowerCase()];
}

/** "GIF" for `a.gif`: how the skipped reason names the format. */
export function formatName(path: string): string {
  return extname(path).slice(1).toUpperCase() || 'extension-less';
}

export const WRITTEN_FORMATS_TEXT = 'PNG, JPEG, WebP and SVG';

/** Which of the daemon's results a file is written from: an SVG from the traced SVG, the rest from the PNG. */
export function resultFormatOf(format: ImageFormat): 'png' | 'svg' {
  return format === 'svg' ? 'svg' : 'png';
}

import { pngSize } from '../reference-export';

/**
 * The exported PNG at exactly `width` x `height`: as it is when it already fits (a square layer for
 * a square model), otherwise centred on a transparent canvas of that size, so that the daemon,
 * which crops an image of another shape to fill, sees the whole layer.
 */
export async function letterbox(png: Uint8Array, width: number, height: number): Promise<Uint8Array> {
  const size = pngSize(png);
  if (size?.width === width && size.height === height) return png;
  const bitmap = await createImageBitmap(new Blob([png.slice()], { type: 'image/png' }));
  const scale = Math.min(width / bitmap.width, height / bitmap.height);
  const drawn = { width: Math.round(bitmap.width * scale), height: Math.round(bitmap.height * scale) };
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  canvas.getContext('2d')!.drawImage(bitmap, Math.floor((width - drawn.width) / 2), Math.floor((height - drawn.height) / 2), drawn.width, drawn.height);
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
  if (blob === null) throw new Error(`the style's image could not be drawn at ${width} x ${height}`);
  return new Uint8Array(await blob.arrayBuffer());
}

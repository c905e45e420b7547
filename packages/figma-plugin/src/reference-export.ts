import type { Size } from './layout';

/**
 * The export constraint that fits a node into `width` x `height` without cropping it: the side that
 * limits the scale gets the box's size. A node of the box's aspect ratio comes out at exactly that
 * size; any other is letterboxed to it by the UI (the daemon would crop it to fill).
 */
export function exportSettingsFor(node: Size, width: number, height: number): { constraint: { type: 'WIDTH' | 'HEIGHT'; value: number } } {
  const byWidth = width / Math.max(node.width, 1e-6) <= height / Math.max(node.height, 1e-6);
  return { constraint: byWidth ? { type: 'WIDTH', value: width } : { type: 'HEIGHT', value: height } };
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** A PNG's size from its header (IHDR is always the first chunk), or undefined for anything else. */
export function pngSize(bytes: Uint8Array): Size | undefined {
  if (bytes.length < 24 || PNG_SIGNATURE.some((byte, i) => bytes[i] !== byte)) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

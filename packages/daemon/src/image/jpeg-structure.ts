import { InputError } from '../errors';

export interface JpegHeader {
  width: number;
  height: number;
}

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
/** Baseline, extended sequential and progressive Huffman frames: what the decoder reads. */
const DECODABLE_FRAMES = new Set([0xc0, 0xc1, 0xc2]);

const isFrame = (marker: number) => marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
/** Markers without a length: TEM and the restart markers. */
const isStandalone = (marker: number) => marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7);

/**
 * Walks a JPEG's marker segments and entropy-coded scans to its end-of-image marker, and checks
 * what a codec would otherwise report in its own words, or not at all (a JPEG decoder may paint a
 * cut-off file grey): a file cut short, segments that overrun it, a frame of a kind the decoder
 * cannot read. The pixels are not decoded; `decodeJpeg` does that after this passed. With
 * `headerOnly` it stops at the frame header, so that a size limit can be applied before anything
 * else is read. Errors start with `source`.
 */
export function readJpegStructure(bytes: Uint8Array, source: string, { headerOnly = false } = {}): JpegHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = bytes.length;
  const truncated = (where: string) => new InputError(`${source}: the JPEG file is truncated: it ends ${where}, before its end-of-image marker`);
  if (size < 2 || bytes[0] !== 0xff || bytes[1] !== SOI) throw new InputError(`${source}: the JPEG file is damaged: it does not start with a start-of-image marker`);
  let header: JpegHeader | undefined;
  let scans = 0;
  let offset = 2;
  for (;;) {
    if (offset >= size) throw truncated(scans > 0 ? `after its image data (${size} bytes)` : `after ${size} bytes, before its image data`);
    if (bytes[offset] !== 0xff) throw new InputError(`${source}: the JPEG file is damaged: no marker at byte ${offset}`);
    // Any number of fill bytes may precede a marker.
    while (offset < size && bytes[offset] === 0xff) offset += 1;
    if (offset >= size) throw truncated(`inside a marker at byte ${offset - 1}`);
    const marker = bytes[offset];
    const at = offset - 1;
    offset += 1;
    if (marker === EOI) {
      if (header === undefined || scans === 0) throw new InputError(`${source}: the JPEG file has no image data (it ends before any frame or scan)`);
      return header;
    }
    if (isStandalone(marker)) continue;
    if (offset + 2 > size) throw truncated(`inside the segment at byte ${at}`);
    const length = view.getUint16(offset);
    if (length < 2) throw new InputError(`${source}: the JPEG file is damaged: the segment at byte ${at} has length ${length}`);
    if (offset + length > size) throw truncated(`inside the segment at byte ${at}, which declares ${length} bytes`);
    if (isFrame(marker)) {
      if (!DECODABLE_FRAMES.has(marker)) {
        throw new InputError(`${source}: this kind of JPEG (lossless, hierarchical or arithmetic-coded, marker 0x${marker.toString(16)}) cannot be read; save it as a baseline or progressive JPEG, or as PNG`);
      }
      if (length < 8) throw new InputError(`${source}: the JPEG file is damaged: its frame header at byte ${at} is too short`);
      const height = view.getUint16(offset + 3);
      const width = view.getUint16(offset + 5);
      if (width === 0 || height === 0) throw new InputError(`${source}: the JPEG file's frame header says ${width}x${height} pixels`);
      header ??= { width, height };
      if (headerOnly) return header;
    }
    offset += length;
    if (marker === SOS) {
      if (header === undefined) throw new InputError(`${source}: the JPEG file is damaged: image data comes before its frame header`);
      scans += 1;
      offset = scanEnd(bytes, offset);
    }
  }
}

/** Where the entropy-coded data that starts at `offset` ends: at the next marker other than a stuffed 0xFF00 or a restart. */
function scanEnd(bytes: Uint8Array, offset: number): number {
  for (let i = offset; i + 1 < bytes.length; i++) {
    if (bytes[i] !== 0xff) continue;
    const next = bytes[i + 1];
    if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) continue;
    return i;
  }
  return bytes.length;
}

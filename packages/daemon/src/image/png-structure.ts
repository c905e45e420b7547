import { crc32, inflateSync } from 'node:zlib';
import { InputError } from '../errors';

export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlaced: boolean;
}

/** Samples per pixel of each colour type: grey, RGB, palette index, grey + alpha, RGBA. */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Bit depths the PNG specification allows for each colour type. */
const DEPTHS: Record<number, readonly number[]> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};

const SIGNATURE_BYTES = 8;
/** Length, type and CRC around each chunk's data. */
const CHUNK_OVERHEAD = 12;

/**
 * Walks a PNG's chunks and checks what a codec would otherwise report in its own words, or not at
 * all: a file cut short, a damaged chunk (its CRC), a header with impossible values, missing image
 * data, image data that does not inflate to exactly the rows its header promises (the codec fills
 * or drops what does not fit without a word). The pixels are not unfiltered; `decodePng` does that after this passed. With `headerOnly`
 * it stops after the header chunk, so that a size limit can be applied before anything else is
 * read. Errors start with `source` and say what is wrong in terms of the file, never the codec's.
 */
export function readPngStructure(bytes: Uint8Array, source: string, { headerOnly = false } = {}): PngHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = bytes.length;
  let header: PngHeader | undefined;
  const imageData: Uint8Array[] = [];
  let sawPalette = false;
  for (let offset = SIGNATURE_BYTES; ; ) {
    if (offset + CHUNK_OVERHEAD > size) {
      const where = offset === size ? `after ${size} bytes` : `inside a chunk header at byte ${offset}`;
      throw new InputError(`${source}: the PNG file is truncated: it ends ${where}, before its IEND chunk`);
    }
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    if (!/^[A-Za-z]{4}$/.test(type) || length > 0x7fff_ffff) {
      throw new InputError(`${source}: the PNG file is damaged: no valid chunk at byte ${offset}`);
    }
    const end = offset + CHUNK_OVERHEAD + length;
    if (end > size) {
      throw new InputError(
        `${source}: the PNG file is truncated: its ${type} chunk at byte ${offset} declares ${length} bytes of data but the file ends after ${Math.max(0, size - offset - 8)}`,
      );
    }
    const data = bytes.subarray(offset + 8, offset + 8 + length);
    if (crc32(data, crc32(bytes.subarray(offset + 4, offset + 8))) !== view.getUint32(offset + 8 + length)) {
      throw new InputError(`${source}: the PNG file is damaged: the checksum of its ${type} chunk at byte ${offset} does not match its content`);
    }
    if (header === undefined) {
      if (type !== 'IHDR' || length !== 13) throw new InputError(`${source}: the PNG file is damaged: it does not start with an IHDR chunk`);
      header = parseHeader(new DataView(data.buffer, data.byteOffset, 13), source);
      if (headerOnly) return header;
    } else if (type === 'PLTE') {
      sawPalette = true;
    } else if (type === 'IDAT') {
      imageData.push(data);
    } else if (type === 'IEND') {
      if (imageData.length === 0) throw new InputError(`${source}: the PNG file has no image data (no IDAT chunk before IEND)`);
      if (header.colorType === 3 && !sawPalette) throw new InputError(`${source}: the PNG file is damaged: a palette image without a PLTE chunk`);
      checkImageData(imageData, header, source);
      return header;
    }
    offset = end;
  }
}

function parseHeader(view: DataView, source: string): PngHeader {
  const width = view.getUint32(0);
  const height = view.getUint32(4);
  const [bitDepth, colorType, compression, filter, interlace] = [8, 9, 10, 11, 12].map((i) => view.getUint8(i));
  if (width === 0 || height === 0 || width > 0x7fff_ffff || height > 0x7fff_ffff) {
    throw new InputError(`${source}: the PNG file is damaged: its header says ${width}x${height} pixels`);
  }
  if (!DEPTHS[colorType]?.includes(bitDepth)) {
    throw new InputError(`${source}: the PNG file is damaged: bit depth ${bitDepth} with colour type ${colorType} is not a valid combination`);
  }
  if (compression !== 0 || filter !== 0 || interlace > 1) {
    throw new InputError(`${source}: the PNG file is damaged: its header names an unknown compression, filter or interlace method`);
  }
  return { width, height, bitDepth, colorType, interlaced: interlace === 1 };
}

/** Inflates the image data (C zlib, which checks the stream's own checksum) and compares its length with the header's. */
function checkImageData(chunks: Uint8Array[], header: PngHeader, source: string): void {
  const expected = filteredSize(header);
  const dims = `${header.width}x${header.height} pixels`;
  let inflated: Buffer;
  try {
    // One byte more than needed is enough to tell "too much" from "exactly right".
    inflated = inflateSync(Buffer.concat(chunks), { maxOutputLength: expected + 1 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new InputError(`${source}: the PNG file is damaged: its image data holds more than its header's ${dims} need`, { cause: error });
    }
    throw new InputError(`${source}: the PNG file is damaged: its compressed image data cannot be decoded`, { cause: error });
  }
  if (inflated.length > expected) {
    throw new InputError(`${source}: the PNG file is damaged: its image data holds more than its header's ${dims} need`);
  }
  if (inflated.length < expected) {
    throw new InputError(`${source}: the PNG file is damaged: its image data holds ${inflated.length} bytes where its header's ${dims} need ${expected}`);
  }
}

/** Bytes of filtered scanlines (a filter byte per row) the header promises, over the 7 Adam7 passes when interlaced. */
function filteredSize({ width, height, bitDepth, colorType, interlaced }: PngHeader): number {
  const bits = CHANNELS[colorType] * bitDepth;
  const rows = (w: number, h: number) => (w === 0 || h === 0 ? 0 : h * (1 + Math.ceil((w * bits) / 8)));
  if (!interlaced) return rows(width, height);
  // Adam7: [x start, y start, x step, y step] of each pass.
  const passes = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];
  let total = 0;
  for (const [x0, y0, dx, dy] of passes) total += rows(Math.ceil((width - x0) / dx), Math.ceil((height - y0) / dy));
  return total;
}

import { crc32, deflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors';
import { decodeImage } from '../../src/image/decode';
import { readJpegStructure } from '../../src/image/jpeg-structure';
import { encodePng } from '../../src/image/png';
import { readPngStructure } from '../../src/image/png-structure';

const limits = { maxPixels: 1_000_000 };

function noise(width: number, height: number, channels: 3 | 4): Uint8Array {
  return Uint8Array.from({ length: width * height * channels }, (_, i) => (i * 2654435761) >>> 24);
}

const png = new Uint8Array(encodePng({ width: 16, height: 12, channels: 3, data: noise(16, 12, 3) }));
const jpg = new Uint8Array(jpeg.encode({ width: 16, height: 16, data: noise(16, 16, 4) }, 90).data);

function errorOf(fn: () => unknown): InputError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error('expected an InputError');
}

/** What the codec itself says about these bytes, or undefined if it reads them. */
function codecSays(decode: () => unknown): string | undefined {
  try {
    decode();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
const pngjsSays = (bytes: Uint8Array) => codecSays(() => PNG.sync.read(Buffer.from(bytes)));
const jpegJsSays = (bytes: Uint8Array) => codecSays(() => jpeg.decode(bytes, { useTArray: true }));

/** The PNG's chunks as [offset, type, data]. */
function chunks(bytes: Uint8Array): [number, string, Uint8Array][] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const all: [number, string, Uint8Array][] = [];
  for (let offset = 8; offset < bytes.length; offset += 12 + view.getUint32(offset)) {
    const length = view.getUint32(offset);
    all.push([offset, Buffer.from(bytes.subarray(offset + 4, offset + 8)).toString('latin1'), bytes.subarray(offset + 8, offset + 8 + length)]);
  }
  return all;
}

/** A PNG with one chunk's data replaced and its CRC made right again: only the content is wrong. */
function withChunk(bytes: Uint8Array, type: string, data: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  for (const [, name, content] of chunks(bytes)) {
    const body = name === type ? data : content;
    const chunk = new Uint8Array(12 + body.length);
    const view = new DataView(chunk.buffer);
    view.setUint32(0, body.length);
    chunk.set(Buffer.from(name, 'latin1'), 4);
    chunk.set(body, 8);
    view.setUint32(8 + body.length, crc32(chunk.subarray(4, 8 + body.length)));
    parts.push(chunk);
  }
  return Uint8Array.from(Buffer.concat(parts));
}

describe('a PNG cut short', () => {
  it('is called truncated at every length, in the file\'s terms and never the codec\'s', () => {
    expect(chunks(png).map(([, type]) => type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    for (let cut = 8; cut < png.length; cut++) {
      const bytes = png.subarray(0, cut);
      const message = errorOf(() => decodeImage(bytes, 'ref.png', limits)).message;
      expect(message, `cut at ${cut}`).toMatch(/^ref\.png: the PNG file is truncated: /);
      expect(message).not.toContain(pngjsSays(bytes));
    }
  });

  it('names the chunk it ends in and how much of it is there', () => {
    const [, [idatAt, , idat]] = chunks(png);
    const bytes = png.subarray(0, idatAt + 8 + 10);
    expect(errorOf(() => decodeImage(bytes, 'ref.png', limits)).message).toBe(
      `ref.png: the PNG file is truncated: its IDAT chunk at byte ${idatAt} declares ${idat.length} bytes of data but the file ends after 10`,
    );
  });
});

describe('a damaged PNG', () => {
  it('is refused whatever byte is changed after the signature', () => {
    for (let at = 8; at < png.length; at++) {
      const bytes = png.slice();
      bytes[at] ^= 0xff;
      expect(errorOf(() => decodeImage(bytes, 'ref.png', limits)).message, `byte ${at}`).toMatch(/^ref\.png: the PNG file is (damaged|truncated): /);
    }
  });

  it('describes image data that cannot be inflated without the codec\'s words', () => {
    const garbage = Uint8Array.from({ length: 200 }, (_, i) => (i * 97 + 13) & 0xff);
    const bytes = withChunk(png, 'IDAT', garbage);
    // pngjs's own reading of such data varies (silence and made-up pixels, or a bare "Unrecognised
    // filter type"), so only our words are asserted.
    expect(errorOf(() => decodeImage(bytes, 'ref.png', limits)).message).toBe('ref.png: the PNG file is damaged: its compressed image data cannot be decoded');
  });

  it('describes image data that inflates to more or fewer rows than the header promises', () => {
    // 12 rows of a filter byte and 16 RGB pixels: 12 · (1 + 48) = 588 bytes.
    const short = withChunk(png, 'IDAT', deflateSync(Buffer.alloc(20)));
    expect(errorOf(() => decodeImage(short, 'ref.png', limits)).message).toBe(
      "ref.png: the PNG file is damaged: its image data holds 20 bytes where its header's 16x12 pixels need 588",
    );
    const long = withChunk(png, 'IDAT', deflateSync(Buffer.alloc(589)));
    expect(errorOf(() => decodeImage(long, 'ref.png', limits)).message).toBe(
      "ref.png: the PNG file is damaged: its image data holds more than its header's 16x12 pixels need",
    );
    expect(decodeImage(withChunk(png, 'IDAT', deflateSync(Buffer.alloc(588))), 'ref.png', limits).data).toEqual(new Uint8Array(16 * 12 * 3));
  });

  it('describes data the codec cannot unfilter without the codec\'s words', () => {
    const rows = Buffer.alloc(588);
    rows[49] = 9; // the second row's filter type: only 0 to 4 exist
    const bytes = withChunk(png, 'IDAT', deflateSync(rows));
    const codec = pngjsSays(bytes);
    expect(codec).toBeDefined();
    const message = errorOf(() => decodeImage(bytes, 'ref.png', limits)).message;
    expect(message).toBe('ref.png: the PNG file is damaged: its compressed image data cannot be decoded');
    expect(message).not.toContain(codec);
  });

  it('names a header with impossible values', () => {
    const [[, , ihdr]] = chunks(png);
    const header = ihdr.slice();
    header[8] = 3; // bit depth 3 does not exist
    expect(errorOf(() => readPngStructure(withChunk(png, 'IHDR', header), 'ref.png')).message).toBe(
      'ref.png: the PNG file is damaged: bit depth 3 with colour type 2 is not a valid combination',
    );
  });

  it('names a file without image data', () => {
    const [ihdr, , iend] = chunks(png);
    const bytes = Buffer.concat([png.subarray(0, 8), png.subarray(ihdr[0], ihdr[0] + 25), png.subarray(iend[0])]);
    expect(errorOf(() => decodeImage(bytes, 'ref.png', limits)).message).toBe('ref.png: the PNG file has no image data (no IDAT chunk before IEND)');
  });

  it('reads the header alone without the rest of the file', () => {
    expect(readPngStructure(png.subarray(0, 33), 'ref.png', { headerOnly: true })).toEqual({ width: 16, height: 12, bitDepth: 8, colorType: 2, interlaced: false });
  });
});

describe('an interlaced PNG', () => {
  /** An Adam7-interlaced 8-bit RGB PNG of `data`, built by hand (pngjs writes no interlaced files). */
  function interlaced(width: number, height: number, data: Uint8Array): Uint8Array {
    const passes = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];
    const rows: number[] = [];
    for (const [x0, y0, dx, dy] of passes) {
      if (x0 >= width || y0 >= height) continue;
      for (let y = y0; y < height; y += dy) {
        rows.push(0);
        for (let x = x0; x < width; x += dx) rows.push(...data.subarray(3 * (y * width + x), 3 * (y * width + x) + 3));
      }
    }
    const header = new Uint8Array(13);
    new DataView(header.buffer).setUint32(0, width);
    new DataView(header.buffer).setUint32(4, height);
    header.set([8, 2, 0, 0, 1], 8);
    return withChunk(withChunk(png, 'IHDR', header), 'IDAT', deflateSync(Uint8Array.from(rows)));
  }

  it.each([[1, 1], [5, 3], [9, 9], [16, 12]])('of %ix%i pixels passes the checks and decodes to its pixels', (width, height) => {
    const data = noise(width, height, 3);
    const bytes = interlaced(width, height, data);
    expect(readPngStructure(bytes, 'i.png')).toMatchObject({ width, height, interlaced: true });
    expect(decodeImage(bytes, 'i.png', limits)).toEqual({ width, height, channels: 3, data });
  });
});

describe('a JPEG cut short or damaged', () => {
  it('is called truncated at every length, in the file\'s terms and never the codec\'s', () => {
    const said = new Set<string>();
    for (let cut = 3; cut < jpg.length; cut++) {
      const bytes = jpg.subarray(0, cut);
      const message = errorOf(() => decodeImage(bytes, 'ref.jpg', limits)).message;
      expect(message, `cut at ${cut}`).toMatch(/^ref\.jpg: the JPEG file is truncated: it ends /);
      const codec = jpegJsSays(bytes);
      if (codec !== undefined) {
        said.add(codec);
        expect(message).not.toContain(codec);
      }
    }
    // What a user would otherwise have read: the codec's internals.
    expect([...said].some((text) => /properties of undefined|marker was not found/.test(text))).toBe(true);
  });

  it('describes entropy data the decoder cannot read without the codec\'s words', () => {
    // Without its Huffman tables the scans cannot be decoded, though every segment is intact.
    const parts: number[] = [0xff, 0xd8];
    for (let offset = 2; offset < jpg.length; ) {
      const marker = jpg[offset + 1];
      if (marker === 0xda) {
        parts.push(...jpg.subarray(offset));
        break;
      }
      const length = (jpg[offset + 2] << 8) | jpg[offset + 3];
      if (marker !== 0xc4) parts.push(...jpg.subarray(offset, offset + 2 + length));
      offset += 2 + length;
    }
    const bytes = Uint8Array.from(parts);
    const codec = jpegJsSays(bytes);
    expect(codec).toBeDefined();
    const message = errorOf(() => decodeImage(bytes, 'ref.jpg', limits)).message;
    expect(message).toBe('ref.jpg: the JPEG file is damaged: its compressed image data cannot be decoded');
    expect(message).not.toContain(codec);
  });

  it('names a kind of JPEG the decoder cannot read', () => {
    const lossless = jpg.slice();
    const sof = jpg.findIndex((b, i) => b === 0xff && jpg[i + 1] === 0xc0);
    lossless[sof + 1] = 0xc3;
    expect(errorOf(() => decodeImage(lossless, 'ref.jpg', limits)).message).toMatch(/^ref\.jpg: this kind of JPEG \(lossless, hierarchical or arithmetic-coded, marker 0xc3\) cannot be read/);
  });

  it('reads the frame header alone without the rest of the file', () => {
    const sof = jpg.findIndex((b, i) => b === 0xff && jpg[i + 1] === 0xc0);
    expect(readJpegStructure(jpg.subarray(0, sof + 19), 'ref.jpg', { headerOnly: true })).toEqual({ width: 16, height: 16 });
    expect(readJpegStructure(jpg, 'ref.jpg')).toEqual({ width: 16, height: 16 });
  });
});

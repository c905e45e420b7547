import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors';
import { decodeImage } from '../../src/image/decode';
import type { Image8 } from '../../src/image/image8';
import { decodeJpeg } from '../../src/image/jpeg';
import { decodePng, encodePng } from '../../src/image/png';
import { sniffImageFormat } from '../../src/image/sniff';

const fixture = (name: string) => new Uint8Array(readFileSync(join(import.meta.dirname, 'fixtures', name)));
const limits = { maxPixels: 1_000_000 };

function solid(width: number, height: number, pixel: number[]): Image8 {
  const data = new Uint8Array(width * height * pixel.length);
  for (let i = 0; i < data.length; i++) data[i] = pixel[i % pixel.length];
  return { width, height, channels: pixel.length as 3 | 4, data };
}

function errorOf(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError');
}

describe('format sniffing', () => {
  it('tells PNG and JPEG apart by their magic bytes', () => {
    expect(sniffImageFormat(encodePng(solid(1, 1, [1, 2, 3])), 'a')).toBe('png');
    expect(sniffImageFormat(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0]), 'b')).toBe('jpeg');
  });

  it('names the file and shows the first bytes of anything else', () => {
    const gif = Buffer.from('GIF89a\x01\x00', 'latin1');
    expect(errorOf(() => sniffImageFormat(gif, 'ref.gif')).message).toBe('ref.gif: not a PNG or JPEG image (it starts with bytes 47 49 46 38 39 61 01 00)');
    expect(errorOf(() => decodeImage(new Uint8Array(0), 'empty.png')).message).toBe('empty.png: the file is empty; expected a PNG or JPEG image');
  });
});

describe('PNG', () => {
  it('round-trips RGB exactly', () => {
    const image: Image8 = { width: 3, height: 2, channels: 3, data: Uint8Array.from({ length: 18 }, (_, i) => i * 14) };
    expect(decodePng(encodePng(image), 'x.png', limits)).toEqual(image);
  });

  it('encodes RGBA and decodes it composited on white', () => {
    const png = encodePng({ width: 3, height: 1, channels: 4, data: Uint8Array.from([200, 100, 0, 128, 10, 20, 30, 255, 10, 20, 30, 0]) });
    // alpha 128: round((200·128 + 255·127) / 255) = round(227.39) = 227, round((100·128 + 32385) / 255) = round(177.20) = 177,
    //            round(32385 / 255) = 127; alpha 255 keeps the colour; alpha 0 is white
    expect([...decodePng(png, 'x.png', limits).data]).toEqual([227, 177, 127, 10, 20, 30, 255, 255, 255]);
  });

  it('reads palette + tRNS, 16-bit grey and grey + alpha files', () => {
    // palette: index 0 opaque red, index 1 transparent -> white
    expect([...decodePng(fixture('palette-trns-2x1.png'), 'p.png', limits).data]).toEqual([255, 0, 0, 255, 255, 255]);
    // 16-bit grey rescaled to 8 bits: round(v · 255 / 65535): 0, 0x8080 -> 128, 0xffff -> 255
    expect([...decodePng(fixture('grey16-3x1.png'), 'g.png', limits).data]).toEqual([0, 0, 0, 128, 128, 128, 255, 255, 255]);
    // grey 100 at alpha 51: round((100·51 + 255·204) / 255) = round(224.0) = 224
    expect([...decodePng(fixture('grey-alpha-1x1.png'), 'ga.png', limits).data]).toEqual([224, 224, 224]);
  });

  it('refuses images over the pixel limit before decoding, and corrupt files', () => {
    const png = encodePng(solid(20, 10, [0, 0, 0]));
    expect(errorOf(() => decodePng(png, 'big.png', { maxPixels: 199 })).message).toBe('big.png: the image has 200 pixels, more than the limit of 199');
    const corrupt = png.slice();
    corrupt[corrupt.length - 20] ^= 0xff;
    expect(errorOf(() => decodePng(corrupt, 'bad.png', limits)).message).toMatch(/^bad\.png: the PNG file is damaged: the checksum of its IDAT chunk at byte \d+ does not match its content$/);
  });
});

describe('JPEG', () => {
  const encoded = new Uint8Array(jpeg.encode(solid(16, 8, [200, 100, 50, 255]), 100).data);

  it('decodes to RGB (lossy: a flat colour comes back within a few levels)', () => {
    const image = decodeImage(encoded, 'flat.jpg');
    expect([image.width, image.height, image.channels, image.data.length]).toEqual([16, 8, 3, 16 * 8 * 3]);
    for (let p = 0; p < 16 * 8; p++) {
      for (const [c, v] of [200, 100, 50].entries()) expect(Math.abs(image.data[3 * p + c] - v)).toBeLessThanOrEqual(3);
    }
  });

  it('refuses images over the pixel limit, and corrupt files', () => {
    expect(errorOf(() => decodeJpeg(encoded, 'big.jpg', { maxPixels: 100 })).message).toBe('big.jpg: the image has 128 pixels, more than the limit of 100');
    expect(errorOf(() => decodeImage(Uint8Array.from([0xff, 0xd8, 0xff, 0x00, 0x01]), 'bad.jpg')).message).toMatch(/^bad\.jpg: the JPEG file is (damaged|truncated): /);
  });
});

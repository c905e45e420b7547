import { crc32, deflateSync } from 'node:zlib';
import { encodeMessage, PROTOCOL_VERSION, type ClientMessage } from '@styleset/protocol';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterEach, describe, expect, it } from 'vitest';
import { fakePng } from './support/fake-engine';
import { TestDaemon } from './support/harness';

let test: TestDaemon;
afterEach(async () => {
  await test.close();
});

const v = PROTOCOL_VERSION;

const submit = (id: string, kind: 'inversion' | 'reference', bytes: Uint8Array, mime: 'image/png' | 'image/jpeg') =>
  encodeMessage(
    (kind === 'inversion'
      ? { v, id, type: 'submit', kind, referencePrompt: 'r', attachment: { byteLength: bytes.length, mime } }
      : { v, id, type: 'submit', kind, prompts: ['a'], referencePrompt: 'r', attachment: { byteLength: bytes.length, mime } }) as ClientMessage,
    bytes,
  );

/** A 64x64 PNG whose IDAT holds deflated bytes of the wrong length, every CRC right: only decoding finds it. */
function pngWithShortImageData(): Uint8Array {
  const png = fakePng(64, 64, 5);
  const ihdrEnd = 8 + 12 + 13;
  const body = deflateSync(Buffer.alloc(100));
  const idat = new Uint8Array(12 + body.length);
  const view = new DataView(idat.buffer);
  view.setUint32(0, body.length);
  idat.set(Buffer.from('IDAT'), 4);
  idat.set(body, 8);
  view.setUint32(8 + body.length, crc32(idat.subarray(4, 8 + body.length)));
  const iend = png.subarray(png.length - 12);
  return Uint8Array.from(Buffer.concat([png.subarray(0, ihdrEnd), idat, iend]));
}

const photo = new Uint8Array(jpeg.encode({ width: 64, height: 64, data: new Uint8Array(64 * 64 * 4).fill(90) }, 90).data);

describe('a reference image the daemon cannot decode', () => {
  it('is refused at submit with invalid_input naming attachment and what is wrong, never in a codec\'s words', async () => {
    test = await TestDaemon.start();
    const socket = await test.pairedSocket();
    const truncatedPng = fakePng(64, 64, 5).subarray(0, 60);
    const cases: [string, Uint8Array, 'image/png' | 'image/jpeg', 'inversion' | 'reference', RegExp][] = [
      ['a PNG cut short', truncatedPng, 'image/png', 'inversion', /^attachment: the PNG file is truncated: its IDAT chunk at byte 33 declares \d+ bytes of data but the file ends after 19$/],
      ['a PNG whose image data is the wrong size', pngWithShortImageData(), 'image/png', 'reference', /^attachment: the PNG file is damaged: its image data holds 100 bytes where its header's 64x64 pixels need 12352$/],
      ['a JPEG cut short', photo.subarray(0, photo.length - 40), 'image/jpeg', 'inversion', /^attachment: the JPEG file is truncated: it ends after its image data \(\d+ bytes\), before its end-of-image marker$/],
    ];
    for (const [what, bytes, mime, kind, message] of cases) {
      socket.send(submit(what, kind, bytes, mime));
      const reply = (await socket.next()).message;
      expect(reply, what).toEqual({ v, type: 'error', id: what, code: 'invalid_input', field: 'attachment', message: expect.stringMatching(message) });
    }
    // What the codec would have said about the first: its words must not reach the client.
    let codec = '';
    try {
      PNG.sync.read(Buffer.from(truncatedPng));
    } catch (error) {
      codec = (error as Error).message;
    }
    expect(codec).toMatch(/read requests/);
    expect(test.engine.jobs).toHaveLength(0);
    socket.send(submit('good', 'inversion', photo, 'image/jpeg'));
    expect((await socket.next()).message).toMatchObject({ type: 'accepted', id: 'good' });
  });
});

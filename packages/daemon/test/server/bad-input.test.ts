import { crc32 } from 'node:zlib';
import { encodeMessage, LIMITS, PROTOCOL_VERSION, type ClientMessage, type Frame } from '@styleset/protocol';
import jpeg from 'jpeg-js';
import { afterEach, describe, expect, it } from 'vitest';
import { fakePng } from './support/fake-engine';
import { TestDaemon } from './support/harness';

let test: TestDaemon;
afterEach(async () => {
  await test.close();
});

const v = PROTOCOL_VERSION;

/** A PNG that is only a signature and an IHDR claiming these dimensions: nothing to decode. */
function pngHeader(width: number, height: number): Uint8Array {
  const bytes = new Uint8Array(33);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  const view = new DataView(bytes.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  bytes.set([8, 2, 0, 0, 0], 24);
  view.setUint32(29, crc32(bytes.subarray(12, 29)));
  return bytes;
}

/** SOI, an APP0 segment to walk past, then a baseline SOF0 claiming these dimensions. */
function jpegHeader(width: number, height: number): Uint8Array {
  const app0 = [0xff, 0xe0, 0, 16, ...Buffer.from('JFIF\0'), 1, 1, 0, 0, 1, 0, 1, 0, 0];
  const sof0 = [0xff, 0xc0, 0, 17, 8, height >> 8, height & 0xff, width >> 8, width & 0xff, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1];
  return Uint8Array.from([0xff, 0xd8, ...app0, ...sof0]);
}

function binaryFrame(header: object, bytes: Uint8Array, declaredHeaderLength?: number): Uint8Array {
  const json = Buffer.from(JSON.stringify(header));
  const frame = new Uint8Array(4 + json.length + bytes.length);
  new DataView(frame.buffer).setUint32(0, declaredHeaderLength ?? json.length);
  frame.set(json, 4);
  frame.set(bytes, 4 + json.length);
  return frame;
}

const set = (id: string, extra: Record<string, unknown> = {}) => ({ v, id, type: 'submit', kind: 'set', prompts: ['a star'], ...extra });
const inversion = (id: string, bytes: Uint8Array, mime = 'image/png') =>
  encodeMessage({ v, id, type: 'submit', kind: 'inversion', referencePrompt: 'r', attachment: { byteLength: bytes.length, mime } } as ClientMessage, bytes);

/** [what, frame, the error expected (id included when the daemon could read one)]. */
const CASES: [string, Frame, Record<string, unknown>][] = [
  ['not JSON', 'hello?', { code: 'bad_message', message: expect.stringContaining('not valid JSON') }],
  ['a JSON array', '[1,2]', { code: 'bad_message', message: 'a message must be a JSON object' }],
  ['no version', JSON.stringify({ id: 'a', type: 'list_models' }), { id: 'a', code: 'bad_message', field: 'v' }],
  ['another version', JSON.stringify({ v: 2, id: 'b', type: 'list_models' }), { id: 'b', code: 'version_mismatch', field: 'v' }],
  ['an unknown type', JSON.stringify({ v, id: 'c', type: 'explode' }), { id: 'c', code: 'unknown_type', field: 'type' }],
  ['an unknown field', JSON.stringify({ v, id: 'd', type: 'list_models', please: true }), { id: 'd', code: 'bad_message', field: 'please' }],
  ['a mistyped field', JSON.stringify({ v, id: 'e', type: 'get_status', jobId: 7 }), { id: 'e', code: 'bad_message', field: 'jobId' }],
  ['steps out of range', JSON.stringify(set('f', { options: { steps: 0 } })), { id: 'f', code: 'invalid_option', field: 'options.steps' }],
  ['a misspelt option', JSON.stringify(set('g', { options: { stepz: 4 } })), { id: 'g', code: 'invalid_option', field: 'options.stepz' }],
  ['a width off the 8-pixel grid', JSON.stringify(set('h', { options: { width: 100 } })), { id: 'h', code: 'invalid_option', field: 'options.width' }],
  ['an image too wide', JSON.stringify(set('i', { options: { width: 4096 } })), { id: 'i', code: 'invalid_option', field: 'options.width' }],
  ['too many prompts', JSON.stringify(set('j', { prompts: Array(LIMITS.maxPromptsPerJob + 1).fill('p') })), { id: 'j', code: 'bad_message', field: 'prompts' }],
  ['no prompts', JSON.stringify(set('k', { prompts: [] })), { id: 'k', code: 'bad_message', field: 'prompts' }],
  ['a prompt too long', JSON.stringify(set('l', { prompts: ['x'.repeat(LIMITS.maxPromptLength + 1)] })), { id: 'l', code: 'bad_message', field: 'prompts.0' }],
  ['a text frame over its limit', JSON.stringify(set('m', { pad: 'x'.repeat(LIMITS.maxTextMessageBytes) })), { id: 'm', code: 'too_large', field: 'frame' }],
  ['a binary frame too short for its header length', Uint8Array.from([0, 0, 1]), { code: 'bad_message', field: 'frame' }],
  ['a header length past the frame', binaryFrame({ v, id: 'n', type: 'list_models' }, new Uint8Array(0), 9999), { id: 'n', code: 'bad_message', field: 'header' }],
  ['bytes nobody declared', binaryFrame({ v, id: 'o', type: 'list_models' }, Uint8Array.from([1, 2])), { id: 'o', code: 'bad_message', field: 'attachment' }],
  ['a byteLength that is not the bytes', binaryFrame({ v, id: 'p', type: 'submit', kind: 'inversion', referencePrompt: 'r', attachment: { byteLength: 10, mime: 'image/png' } }, fakePng(8, 8, 1)), { id: 'p', code: 'bad_message', field: 'attachment.byteLength' }],
  ['a reference image without its bytes', JSON.stringify({ v, id: 'q', type: 'submit', kind: 'reference', prompts: ['a'], referencePrompt: 'r' }), { id: 'q', code: 'bad_message', field: 'attachment' }],
  ['a PNG of huge dimensions', inversion('r', pngHeader(40_000, 40_000)), { id: 'r', code: 'too_large', field: 'attachment' }],
  ['a JPEG of huge dimensions', inversion('s', jpegHeader(5000, 3000), 'image/jpeg'), { id: 's', code: 'too_large', field: 'attachment', message: expect.stringContaining('5000x3000') }],
  ['an image that is neither PNG nor JPEG', inversion('t', Buffer.from('GIF89a\x01\x00\x01\x00')), { id: 't', code: 'invalid_input', field: 'attachment' }],
  ['a truncated PNG', inversion('u', fakePng(8, 8, 1).subarray(0, 12)), { id: 'u', code: 'invalid_input', field: 'attachment' }],
  ['a MIME type that is not the bytes', inversion('w', fakePng(8, 8, 1), 'image/jpeg'), { id: 'w', code: 'invalid_input', field: 'attachment.mime' }],
  ['an unknown model', JSON.stringify(set('x', { options: { model: 'sdxl' } })), { id: 'x', code: 'model_not_found', field: 'options.model', message: expect.stringContaining('"tiny", "sd15"') }],
  ['an unknown job', JSON.stringify({ v, id: 'y', type: 'get_status', jobId: 'abc' }), { id: 'y', code: 'job_not_found', field: 'jobId' }],
  ['a job id that is a path', JSON.stringify({ v, id: 'z', type: 'get_results', jobId: '../../config' }), { id: 'z', code: 'job_not_found', field: 'jobId' }],
  ['cancelling an unknown job', JSON.stringify({ v, id: 'z1', type: 'cancel', jobId: 'abc' }), { id: 'z1', code: 'job_not_found', field: 'jobId' }],
];

describe('bad input after pairing', () => {
  it('answers each class with its error code, echoing the id, and keeps the connection', async () => {
    test = await TestDaemon.start();
    const socket = await test.pairedSocket();
    for (const [what, frame, expected] of CASES) {
      socket.send(frame);
      expect((await socket.next()).message, what).toEqual({ v, type: 'error', message: expect.any(String), ...expected });
    }
    socket.send({ v, id: 'still', type: 'list_models' });
    expect((await socket.next()).message).toMatchObject({ type: 'models', id: 'still' });
    expect(test.engine.jobs).toHaveLength(0);
  });

  it('accepts images within the limits', async () => {
    test = await TestDaemon.start();
    const socket = await test.pairedSocket();
    socket.send(inversion('ok-png', fakePng(LIMITS.size.max, 16, 1)));
    expect((await socket.next()).message).toMatchObject({ type: 'accepted', id: 'ok-png', count: 0 });
    const photo = { width: 640, height: 480, data: new Uint8Array(640 * 480 * 4).fill(128) };
    socket.send(inversion('ok-jpeg', new Uint8Array(jpeg.encode(photo, 80).data), 'image/jpeg'));
    expect((await socket.until('accepted')).at(-1)?.message).toMatchObject({ id: 'ok-jpeg' });
  });

  it('closes the connection (1009) on a frame over the largest a message may be', async () => {
    test = await TestDaemon.start();
    const socket = await test.pairedSocket();
    socket.send(new Uint8Array(LIMITS.maxBinaryFrameBytes + 1));
    expect((await socket.closed).code).toBe(1009);
    const other = await test.pairedSocket();
    other.send({ v, id: 'm', type: 'list_models' });
    expect((await other.next()).message.type).toBe('models');
  });
});

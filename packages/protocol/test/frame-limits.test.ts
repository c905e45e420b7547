import { describe, expect, it } from 'vitest';
import { LIMITS, PROTOCOL_VERSION, decodeClientMessage, type DecodeResult, type Message } from '../src';
import { ID_SCAN_CHARS, peekRequestId } from '../src/peek-id';

const v = PROTOCOL_VERSION;
const max = LIMITS.maxTextMessageBytes;

function failure(decoded: DecodeResult<Message>) {
  if (decoded.ok) throw new Error('expected a failure');
  return decoded;
}

/** A submit whose prompts push it past the text limit; `id` where the caller puts it. */
function oversizedSubmit(idFirst: boolean): string {
  const prompts = Array.from({ length: 64 }, () => 'p'.repeat(LIMITS.maxPromptLength));
  const padding = 'x'.repeat(max);
  const body = idFirst ? { v, id: 'big-1', type: 'submit', kind: 'set', prompts, padding } : { v, type: 'submit', kind: 'set', prompts, padding, id: 'big-1' };
  return JSON.stringify(body);
}

function binary(header: string, declaredLength: number, trailing = 0): Uint8Array {
  const json = new TextEncoder().encode(header);
  const frame = new Uint8Array(4 + json.length + trailing);
  new DataView(frame.buffer).setUint32(0, declaredLength);
  frame.set(json, 4);
  return frame;
}

describe('a frame refused before it is parsed', () => {
  it('names the frame and the limit, with its value, and echoes an id near the start', () => {
    const text = oversizedSubmit(true);
    const { error, id } = failure(decodeClientMessage(text));
    expect(id).toBe('big-1');
    expect(error).toEqual({
      code: 'too_large',
      field: 'frame',
      message: `the text message is at least ${text.length} bytes; the limit is ${max} bytes (limits.maxTextMessageBytes)`,
    });
  });

  it('measures a frame near the limit exactly, in UTF-8 bytes', () => {
    const text = JSON.stringify({ v, id: 'euro', type: 'list_models', pad: '€'.repeat(Math.ceil(max / 3)) });
    const bytes = new TextEncoder().encode(text).length;
    expect(text.length).toBeLessThan(max);
    const { error, id } = failure(decodeClientMessage(text));
    expect(id).toBe('euro');
    expect(error.message).toBe(`the text message is ${bytes} bytes; the limit is ${max} bytes (limits.maxTextMessageBytes)`);
  });

  it('says why there is no id when it lies beyond the scanned start', () => {
    const { error, id } = failure(decodeClientMessage(oversizedSubmit(false)));
    expect(id).toBeUndefined();
    expect(error.field).toBe('frame');
    expect(error.message).toContain(`no request id among its first ${ID_SCAN_CHARS} characters to echo (send \`id\` first)`);
  });

  it('names the header of a binary frame whose header is over the limit, echoing its id', () => {
    const header = JSON.stringify({ v, id: 'hdr', type: 'submit', kind: 'inversion', referencePrompt: 'r' });
    const { error, id } = failure(decodeClientMessage(binary(header, max + 1)));
    expect(id).toBe('hdr');
    expect(error).toEqual({
      code: 'too_large',
      field: 'header',
      message: `the binary frame's JSON header is ${max + 1} bytes; the limit is ${max} bytes (limits.maxTextMessageBytes)`,
    });
  });

  it('names the whole binary frame over its limit, echoing the id of its header', () => {
    const header = JSON.stringify({ v, id: 'whole', type: 'submit' });
    const frame = binary(header, header.length, LIMITS.maxBinaryFrameBytes);
    const { error, id } = failure(decodeClientMessage(frame));
    expect(id).toBe('whole');
    expect(error).toMatchObject({ code: 'too_large', field: 'frame', message: expect.stringContaining(`(limits.maxBinaryFrameBytes)`) });
    expect(error.message).toContain(`the binary frame is ${frame.length} bytes; the limit is ${LIMITS.maxBinaryFrameBytes} bytes`);
  });

  it('echoes the id of a header cut short by its declared length', () => {
    const header = JSON.stringify({ v, id: 'cut', type: 'submit', kind: 'inversion' });
    const decoded = failure(decodeClientMessage(binary(header, header.length + 50)));
    expect(decoded).toMatchObject({ id: 'cut', error: { code: 'bad_message', field: 'header' } });
  });
});

describe('peekRequestId', () => {
  it.each([
    ['{"v":1,"id":"a","type":"x"}', 'a'],
    ['  {\n "id" : "spaced" }', 'spaced'],
    ['{"v":1,"type":"x","id":"last"', 'last'],
    ['{"id":"esc\\"aped"}', 'esc"aped'],
    ['{"\\u0069d":"unicode-key"}', 'unicode-key'],
    ['{"v":1.5e3,"ok":true,"n":null,"id":"after-literals"}', 'after-literals'],
  ])('reads the top-level id of %s', (text, id) => {
    expect(peekRequestId(text)).toBe(id);
  });

  it.each([
    ['an id inside a nested object', '{"options":{"id":"inner"},"type":"x"}'],
    ['an id inside an array', '{"prompts":[{"id":"inner"}, "\\"id\\":\\"x\\""]}'],
    ['an id inside a string value', '{"prompt":"{\\"id\\":\\"fake\\"}","type":"x"}'],
    ['a number id', '{"id":7}'],
    ['an empty id', '{"id":""}'],
    ['an id longer than the protocol allows', `{"id":"${'i'.repeat(65)}"}`],
    ['not an object', '["id","a"]'],
    ['a value that never closes', '{"prompt":"unterminated'],
  ])('finds none in %s', (_, text) => {
    expect(peekRequestId(text)).toBeUndefined();
  });

  it('stops at the scan window, however the text goes on', () => {
    const before = `{"pad":"${'x'.repeat(ID_SCAN_CHARS)}","id":"late"}`;
    expect(peekRequestId(before)).toBeUndefined();
    const inside = `{"pad":"${'x'.repeat(ID_SCAN_CHARS - 40)}","id":"early"}`;
    expect(peekRequestId(inside)).toBe('early');
  });
});

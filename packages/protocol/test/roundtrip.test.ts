import { describe, expect, it } from 'vitest';
import { decodeClientMessage, decodeDaemonMessage, encodeMessage } from '../src';
import { clientMessages, daemonMessages, hello, png, result } from './fixtures';

describe('every message round-trips', () => {
  // Bytes decide the frame kind: text frames never carry them, binary ones always do.
  const frameKind = (bytes?: Uint8Array) => (bytes === undefined ? 'string' : 'object');
  const expected = (message: object, bytes?: Uint8Array) =>
    bytes === undefined ? { ok: true, message } : { ok: true, message, bytes };

  it.each(clientMessages)('client: %s', (_name, message, bytes) => {
    const frame = encodeMessage(message, bytes);
    expect(typeof frame).toBe(frameKind(bytes));
    expect(decodeClientMessage(frame)).toEqual(expected(message, bytes));
  });

  it.each(daemonMessages)('daemon: %s', (_name, message, bytes) => {
    const frame = encodeMessage(message, bytes);
    expect(typeof frame).toBe(frameKind(bytes));
    expect(decodeDaemonMessage(frame)).toEqual(expected(message, bytes));
  });
});

describe('binary frames', () => {
  it('lays out [uint32 BE header length][UTF-8 JSON header][bytes]', () => {
    const frame = encodeMessage(result, png);
    const headerLength = new DataView(frame.buffer).getUint32(0, false);
    const header = new TextDecoder().decode(frame.subarray(4, 4 + headerLength));
    expect(JSON.parse(header)).toEqual(result);
    expect(frame.subarray(4 + headerLength)).toEqual(png);
  });

  it('decodes from an ArrayBuffer, as a browser WebSocket delivers it', () => {
    const frame = encodeMessage(result, png);
    expect(decodeDaemonMessage(frame.buffer as ArrayBuffer)).toEqual({ ok: true, message: result, bytes: png });
  });

  it('decodes a view at an offset into a larger buffer, as Node Buffers often are', () => {
    const frame = encodeMessage(result, png);
    const pool = new Uint8Array(frame.length + 13);
    pool.set(frame, 5);
    const decoded = decodeDaemonMessage(pool.subarray(5, 5 + frame.length));
    expect(decoded).toEqual({ ok: true, message: result, bytes: png });
  });

  it('accepts a message without attachment in a header-only binary frame', () => {
    const json = new TextEncoder().encode(JSON.stringify(hello));
    const frame = new Uint8Array(4 + json.length);
    new DataView(frame.buffer).setUint32(0, json.length, false);
    frame.set(json, 4);
    expect(decodeClientMessage(frame)).toEqual({ ok: true, message: hello });
  });

  it('encodes multi-byte UTF-8 header text with its byte length, not its character count', () => {
    const message = { ...result, prompt: 'ein Spielzeugauto, Ölgemälde 🚗' };
    const frame = encodeMessage(message, png);
    expect(decodeDaemonMessage(frame)).toEqual({ ok: true, message, bytes: png });
  });
});

describe('encodeMessage', () => {
  it('refuses an attachment without its bytes', () => {
    expect(() => encodeMessage(result)).toThrow(/declares an attachment of 300 bytes but no bytes/);
  });

  it('refuses bytes for a message without an attachment', () => {
    expect(() => encodeMessage(hello, png)).toThrow(/declares no attachment but 300 bytes/);
  });

  it('refuses bytes of another length than declared', () => {
    expect(() => encodeMessage(result, png.subarray(1))).toThrow(/300 bytes but 299 bytes/);
  });
});

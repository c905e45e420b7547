import type * as z from 'zod';
import type { ErrorCode, ProtocolError } from './errors';
import { type Attachment, requestIdSchema } from './fields';
import { issueToError } from './issues';
import { LIMITS } from './limits';
import { ID_SCAN_CHARS, peekRequestId } from './peek-id';
import { type ClientMessage, clientMessageSchemas } from './messages/client';
import { type DaemonMessage, daemonMessageSchemas } from './messages/daemon';
import { PROTOCOL_VERSION } from './version';

/**
 * Wire format. A message without bytes is its JSON in a text frame. A message with bytes is one
 * binary frame: [uint32 big-endian header length][UTF-8 JSON header][raw bytes], where the header
 * is the message itself and its `attachment` declares the bytes' length and MIME type. Images
 * thus cost their size, not base64's 4/3 of it, and a frame is one message: no reassembly.
 */

export type Message = ClientMessage | DaemonMessage;

/** What a WebSocket hands over: a string for text frames, bytes for binary ones. */
export type Frame = string | Uint8Array | ArrayBuffer;

export type DecodeResult<M extends Message> =
  | { ok: true; message: M; bytes?: Uint8Array }
  /** `id` is the request's, when it could be read, so the reply `error` can echo it. */
  | { ok: false; error: ProtocolError; id?: string };

type Failure = Extract<DecodeResult<Message>, { ok: false }>;

const HEADER_LENGTH_BYTES = 4;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Text for a message without bytes, one binary frame for a message with an attachment. */
export function encodeMessage(message: Message): string;
export function encodeMessage(message: Message, bytes: Uint8Array): Uint8Array;
export function encodeMessage(message: Message, bytes?: Uint8Array): string | Uint8Array;
export function encodeMessage(message: Message, bytes?: Uint8Array): string | Uint8Array {
  const attachment = attachmentOf(message);
  // A mismatch here is a bug in the sender; failing now beats a rejection on the far side.
  if (attachment?.byteLength !== bytes?.length) {
    const declared = attachment ? `an attachment of ${attachment.byteLength} bytes` : 'no attachment';
    const given = bytes ? `${bytes.length} bytes were` : 'no bytes were';
    throw new TypeError(`'${message.type}' declares ${declared} but ${given} given`);
  }
  if (bytes === undefined) return JSON.stringify(message);
  const header = encoder.encode(JSON.stringify(message));
  const frame = new Uint8Array(HEADER_LENGTH_BYTES + header.length + bytes.length);
  new DataView(frame.buffer).setUint32(0, header.length, false);
  frame.set(header, HEADER_LENGTH_BYTES);
  frame.set(bytes, HEADER_LENGTH_BYTES + header.length);
  return frame;
}

/** Validates what a client sent. Never throws: a bad frame becomes `{ ok: false, error }`. */
export function decodeClientMessage(frame: Frame): DecodeResult<ClientMessage> {
  return decode(
    frame,
    clientMessageSchemas,
    (v) => `the client speaks protocol version ${v}; this daemon speaks version ${PROTOCOL_VERSION}`,
  );
}

/** Validates what the daemon sent. Never throws: a bad frame becomes `{ ok: false, error }`. */
export function decodeDaemonMessage(frame: Frame): DecodeResult<DaemonMessage> {
  return decode(
    frame,
    daemonMessageSchemas,
    (v) => `the daemon speaks protocol version ${v}; this client speaks version ${PROTOCOL_VERSION}`,
  );
}

function attachmentOf(message: Message): Attachment | undefined {
  return 'attachment' in message ? message.attachment : undefined;
}

function fail(code: ErrorCode, message: string, field?: string, id?: string): Failure {
  return {
    ok: false,
    error: field === undefined ? { code, message } : { code, message, field },
    ...(id !== undefined && { id }),
  };
}

type Unpacked = { ok: true; json: string; bytes?: Uint8Array } | Failure;

/** Decodes a prefix that may end inside a character: only used to look for the id. */
const lenientDecoder = new TextDecoder('utf-8');

/**
 * A frame refused before its JSON is parsed still names what was wrong (`field`: `frame` or
 * `header`) and, when a bounded scan of its start finds it, the request's id to echo.
 */
function refuse(code: ErrorCode, message: string, field: 'frame' | 'header', head: () => string): Failure {
  const id = peekRequestId(head());
  const why = id === undefined ? `; no request id among its first ${ID_SCAN_CHARS} characters to echo (send \`id\` first)` : '';
  return fail(code, `${message}${why}`, field, id);
}

function unpack(frame: Frame): Unpacked {
  const max = LIMITS.maxTextMessageBytes;
  if (typeof frame === 'string') {
    // Each character is 1 to 3 UTF-8 bytes: only measure exactly when the bounds disagree.
    const size = frame.length > max ? undefined : frame.length * 3 > max ? encoder.encode(frame).length : frame.length;
    if (size === undefined || size > max) {
      const measured = size === undefined ? `at least ${frame.length} bytes` : `${size} bytes`;
      return refuse('too_large', `the text message is ${measured}; the limit is ${max} bytes (limits.maxTextMessageBytes)`, 'frame', () => frame.slice(0, ID_SCAN_CHARS));
    }
    return { ok: true, json: frame };
  }
  const view = ArrayBuffer.isView(frame) ? frame : new Uint8Array(frame);
  const size = view.length;
  // At most one character per byte: this many bytes hold the scan window whatever the text.
  const head = (from: number, to: number) => () => lenientDecoder.decode(view.subarray(from, Math.min(to, from + ID_SCAN_CHARS * 3)));
  if (size > LIMITS.maxBinaryFrameBytes) {
    return refuse(
      'too_large',
      `the binary frame is ${size} bytes; the limit is ${LIMITS.maxBinaryFrameBytes} bytes (limits.maxBinaryFrameBytes)`,
      'frame',
      head(HEADER_LENGTH_BYTES, size),
    );
  }
  if (size < HEADER_LENGTH_BYTES) {
    return fail('bad_message', `a binary frame is ${size} bytes, too short for its 4-byte header length`, 'frame');
  }
  const headerLength = new DataView(view.buffer, view.byteOffset, size).getUint32(0, false);
  const headerEnd = HEADER_LENGTH_BYTES + headerLength;
  if (headerLength > max) {
    return refuse(
      'too_large',
      `the binary frame's JSON header is ${headerLength} bytes; the limit is ${max} bytes (limits.maxTextMessageBytes)`,
      'header',
      head(HEADER_LENGTH_BYTES, Math.min(headerEnd, size)),
    );
  }
  if (headerEnd > size) {
    const follow = size - HEADER_LENGTH_BYTES;
    return refuse('bad_message', `the binary frame declares a ${headerLength}-byte header but only ${follow} bytes follow`, 'header', head(HEADER_LENGTH_BYTES, size));
  }
  let json: string;
  try {
    json = decoder.decode(view.subarray(HEADER_LENGTH_BYTES, headerEnd));
  } catch {
    return refuse('bad_message', "the binary frame's JSON header is not valid UTF-8", 'header', head(HEADER_LENGTH_BYTES, headerEnd));
  }
  // A view, not a copy: images are large and the frame is not reused.
  return { ok: true, json, bytes: view.subarray(headerEnd) };
}

function decode<M extends Message>(
  frame: Frame,
  schemas: Record<string, z.ZodType>,
  versionMismatch: (theirs: number) => string,
): DecodeResult<M> {
  const unpacked = unpack(frame);
  if (!unpacked.ok) return unpacked;
  let raw: unknown;
  try {
    raw = JSON.parse(unpacked.json);
  } catch (error) {
    return fail('bad_message', `not valid JSON: ${(error as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return fail('bad_message', 'a message must be a JSON object');
  }
  const object = raw as Record<string, unknown>;
  const id = requestIdSchema.safeParse(object.id).data;

  // `v` first: a message of another version may use types and fields this one does not know.
  const { v, type } = object;
  if (v === undefined) return fail('bad_message', 'v (the protocol version) is required', 'v', id);
  if (!Number.isInteger(v)) return fail('bad_message', 'v must be an integer', 'v', id);
  if (v !== PROTOCOL_VERSION) return fail('version_mismatch', versionMismatch(v as number), 'v', id);
  if (typeof type !== 'string') {
    const problem = type === undefined ? 'type is required' : 'type must be a string';
    return fail('bad_message', problem, 'type', id);
  }
  const schema = Object.hasOwn(schemas, type) ? schemas[type] : undefined;
  if (schema === undefined) {
    const known = Object.keys(schemas).join(', ');
    return fail('unknown_type', `unknown message type ${JSON.stringify(type)}; expected one of ${known}`, 'type', id);
  }

  const parsed = schema.safeParse(object, { reportInput: true });
  if (!parsed.success) {
    const { code, message, field } = issueToError(parsed.error.issues[0]);
    return fail(code, message, field, id);
  }
  const message = parsed.data as M;
  const attachment = attachmentOf(message);
  const mismatch = attachmentMismatch(attachment, unpacked.bytes);
  if (mismatch !== undefined) return fail('bad_message', mismatch.message, mismatch.field, id);
  return attachment === undefined ? { ok: true, message } : { ok: true, message, bytes: unpacked.bytes };
}

/** The header's `attachment` and the frame's trailing bytes must describe each other exactly. */
function attachmentMismatch(
  attachment: Attachment | undefined,
  bytes: Uint8Array | undefined,
): { message: string; field: string } | undefined {
  if (attachment === undefined) {
    // A header-only binary frame is harmless; bytes nobody declared are not.
    if (bytes === undefined || bytes.length === 0) return undefined;
    return {
      field: 'attachment',
      message: `the frame carries ${bytes.length} bytes but the message declares no attachment`,
    };
  }
  if (bytes === undefined) {
    return {
      field: 'attachment',
      message: 'attachment bytes must follow the JSON header in a binary frame',
    };
  }
  if (bytes.length === attachment.byteLength) return undefined;
  return {
    field: 'attachment.byteLength',
    message: `attachment.byteLength says ${attachment.byteLength} bytes but the frame carries ${bytes.length}`,
  };
}

import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { decodeDaemonMessage, encodeMessage, type ClientMessage } from '@styleset/protocol';
import type { Received } from '../../../src/server/client';

const OPCODE_TEXT = 0x1;
const OPCODE_BINARY = 0x2;
const OPCODE_CLOSE = 0x8;

/**
 * A WebSocket client written straight on a TCP socket, for what a library client hides: it can
 * stop reading for real (`pause`: the kernel's buffers fill, then the daemon's), and it sends frames
 * without waiting for anything. It speaks just enough of RFC 6455 for the daemon's frames.
 */
export class TcpWebSocket {
  private input = Buffer.alloc(0);
  private readonly messages: Received[] = [];
  private wake?: () => void;
  /** The daemon's close frame, once read. */
  closeFrame?: { code: number; reason: string };
  readonly ended: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.input = Buffer.concat([this.input, chunk]);
      this.parse();
    });
    socket.on('error', () => {});
    this.ended = new Promise((resolve) => socket.once('close', () => resolve()));
    this.ended.then(() => this.wake?.());
  }

  static async open(port: number, host = '127.0.0.1'): Promise<TcpWebSocket> {
    const socket = connect(port, host);
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const key = randomBytes(16).toString('base64');
    const request = ['GET / HTTP/1.1', `Host: ${host}:${port}`, 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Version: 13', `Sec-WebSocket-Key: ${key}`];
    socket.write(`${request.join('\r\n')}\r\n\r\n`);
    let head = Buffer.alloc(0);
    while (!head.includes('\r\n\r\n')) {
      const chunk: Buffer = await new Promise((resolve, reject) => socket.once('data', resolve).once('error', reject));
      head = Buffer.concat([head, chunk]);
    }
    const end = head.indexOf('\r\n\r\n') + 4;
    const status = head.subarray(0, end).toString().split('\r\n')[0];
    if (!status.startsWith('HTTP/1.1 101')) throw new Error(`the upgrade was refused: ${status}`);
    const client = new TcpWebSocket(socket);
    client.input = head.subarray(end);
    client.parse();
    return client;
  }

  /** Sends a text frame with a zero mask key (masked, as a client must, and still readable). */
  send(message: ClientMessage | string): boolean {
    const payload = Buffer.from(typeof message === 'string' ? message : (encodeMessage(message) as string));
    const length =
      payload.length < 126
        ? Buffer.from([0x80 | payload.length])
        : payload.length < 65536
          ? Buffer.from([0x80 | 126, payload.length >> 8, payload.length & 0xff])
          : Buffer.concat([Buffer.from([0x80 | 127]), bigEndian64(payload.length)]);
    return this.socket.write(Buffer.concat([Buffer.from([0x80 | OPCODE_TEXT]), length, Buffer.alloc(4), payload]));
  }

  /** Stops reading from the socket: nothing more is taken off the kernel's receive buffer. */
  pause(): void {
    this.socket.pause();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** The next daemon message, decoded by the protocol. */
  async next(): Promise<Received> {
    for (;;) {
      const message = this.messages.shift();
      if (message !== undefined) return message;
      if (this.socket.destroyed) throw new Error('the socket closed');
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private parse(): void {
    for (;;) {
      const frame = readFrame(this.input);
      if (frame === undefined) break;
      this.input = this.input.subarray(frame.end);
      if (frame.opcode === OPCODE_CLOSE) {
        this.closeFrame = { code: frame.payload.readUInt16BE(0), reason: frame.payload.subarray(2).toString() };
      } else if (frame.opcode === OPCODE_TEXT || frame.opcode === OPCODE_BINARY) {
        const decoded = decodeDaemonMessage(frame.opcode === OPCODE_TEXT ? frame.payload.toString() : frame.payload);
        if (!decoded.ok) throw new Error(`the daemon sent an invalid message: ${decoded.error.message}`);
        this.messages.push({ message: decoded.message, bytes: decoded.bytes });
      }
    }
    this.wake?.();
  }
}

/** One unfragmented, unmasked frame (what a server sends) from the start of `input`, if it is all there. */
function readFrame(input: Buffer): { opcode: number; payload: Buffer; end: number } | undefined {
  if (input.length < 2) return undefined;
  const opcode = input[0] & 0x0f;
  let length = input[1] & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (input.length < 4) return undefined;
    length = input.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (input.length < 10) return undefined;
    length = Number(input.readBigUInt64BE(2));
    offset = 10;
  }
  if (input.length < offset + length) return undefined;
  return { opcode, payload: input.subarray(offset, offset + length), end: offset + length };
}

function bigEndian64(value: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(BigInt(value));
  return bytes;
}

import {
  PROTOCOL_VERSION,
  decodeClientMessage,
  encodeMessage,
  type ClientMessage,
  type DaemonMessage,
  type DaemonMessageOf,
  type DecodeResult,
  type Frame,
  type ProtocolError,
} from '@styleset/protocol';
import { WebSocket, type RawData } from 'ws';
import { tokenHash, tokensEqual } from '../config/token';
import type { DaemonEvent } from './events';
import type { Client, JobService } from './job-service';
import { RequestError, toProtocolError } from './request-error';

export interface ConnectionOptions {
  id: string;
  token: string;
  service: JobService;
  welcome: Omit<DaemonMessageOf<'welcome'>, 'id'>;
  helloTimeoutMs: number;
  /** Ping period; a client that has not answered the previous ping by the next is dropped. */
  heartbeatMs: number;
  remoteAddress?: string;
  onEvent(event: DaemonEvent): void;
}

/** Policy violation: the close code for a connection refused for want of a valid hello. */
const CLOSE_UNAUTHORIZED = 1008;
/** Going away: the daemon is stopping. */
const CLOSE_STOPPING = 1001;

/**
 * One client: it must pair (`hello` with the token) before anything else, and is closed if it
 * does not. After that every request is answered, errors included, echoing the request's id; a bad
 * request never costs the client its connection. Requests are handled one at a time, in order, so
 * two submissions queue in the order they were sent.
 */
export class Connection implements Client {
  readonly id: string;
  tokenHash = '';
  private paired = false;
  private requests = Promise.resolve();
  private readonly helloTimer: NodeJS.Timeout;
  private readonly heartbeat: NodeJS.Timeout;
  private answeredPing = true;
  private readonly closed: Promise<void>;

  constructor(
    private readonly socket: WebSocket,
    private readonly options: ConnectionOptions,
  ) {
    this.id = options.id;
    this.helloTimer = setTimeout(() => {
      const seconds = options.helloTimeoutMs / 1000;
      this.refuse(undefined, { code: 'unauthorized', message: `no hello within ${seconds} s of connecting` });
    }, options.helloTimeoutMs);
    // Pings keep idle proxies from closing a connection that waits on a long queue, and find
    // clients that vanished without closing, which would otherwise hold a connection slot forever.
    this.heartbeat = setInterval(() => {
      if (!this.answeredPing) {
        socket.terminate();
        return;
      }
      this.answeredPing = false;
      socket.ping();
    }, options.heartbeatMs);
    socket.on('pong', () => (this.answeredPing = true));
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        clearTimeout(this.helloTimer);
        clearInterval(this.heartbeat);
        options.service.disconnect(this);
        options.onEvent({ type: 'disconnected', clientId: this.id });
        resolve();
      });
    });
    socket.on('message', (data, isBinary) => this.receive(data, isBinary));
    // ws reports what it closes the connection for here: an oversized frame (1009), bad UTF-8 (1007).
    socket.on('error', (error) => options.onEvent({ type: 'warning', message: `connection ${this.id}: ${error.message}` }));
  }

  send(message: DaemonMessage, bytes?: Uint8Array): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(encodeMessage(message, bytes));
  }

  /** For a daemon shutdown: asks the client to close, and stops waiting after `graceMs`. */
  async close(graceMs: number): Promise<void> {
    this.socket.close(CLOSE_STOPPING, 'daemon stopping');
    const timer = setTimeout(() => this.socket.terminate(), graceMs);
    await this.closed;
    clearTimeout(timer);
  }

  private receive(data: RawData, isBinary: boolean): void {
    // Frames that were already in flight when the connection was refused or closed.
    if (this.socket.readyState !== WebSocket.OPEN) return;
    const decoded = decodeClientMessage(frameOf(data, isBinary));
    if (!this.paired) {
      this.pair(decoded);
      return;
    }
    if (!decoded.ok) {
      this.send({ v: PROTOCOL_VERSION, type: 'error', id: decoded.id, ...decoded.error });
      return;
    }
    const { message } = decoded;
    this.requests = this.requests.then(() =>
      this.handle(message, decoded.bytes).catch((error: unknown) => {
        this.send({ v: PROTOCOL_VERSION, type: 'error', id: message.id, ...toProtocolError(error) });
      }),
    );
  }

  private pair(decoded: DecodeResult<ClientMessage>): void {
    if (!decoded.ok) {
      this.refuse(decoded.id, decoded.error);
      return;
    }
    const { message } = decoded;
    if (message.type !== 'hello') {
      this.refuse(message.id, { code: 'unauthorized', message: `the first message must be hello with the pairing token, not ${message.type}` });
      return;
    }
    if (!tokensEqual(message.token, this.options.token)) {
      this.refuse(message.id, {
        code: 'unauthorized',
        message: "wrong pairing token: run `styleset pair` on the daemon's machine and use the token it prints",
      });
      return;
    }
    clearTimeout(this.helloTimer);
    this.paired = true;
    this.tokenHash = tokenHash(message.token);
    this.send({ ...this.options.welcome, id: message.id });
  }

  private refuse(id: string | undefined, error: ProtocolError): void {
    this.send({ v: PROTOCOL_VERSION, type: 'error', id, ...error });
    this.socket.close(CLOSE_UNAUTHORIZED, error.code);
    this.options.onEvent({ type: 'refused', reason: `${error.code}: ${error.message}`, remoteAddress: this.options.remoteAddress });
  }

  private async handle(message: ClientMessage, bytes: Uint8Array | undefined): Promise<void> {
    const { service } = this.options;
    const reply = { v: PROTOCOL_VERSION, id: message.id } as const;
    switch (message.type) {
      case 'hello':
        throw new RequestError('bad_message', 'this connection is already paired; hello comes once, first', 'type');
      case 'list_models':
        this.send({ ...reply, type: 'models', models: await service.listModels() });
        return;
      case 'get_model':
        this.send({ ...reply, type: 'model', model: await service.getModel(message.model) });
        return;
      case 'submit':
        await service.submit(this, message, bytes);
        return;
      case 'cancel':
        this.send(await service.cancel(this, message.jobId, message.id));
        return;
      case 'get_status':
        this.send(service.status(this, message.jobId, message.id, message.follow ?? true));
        return;
      case 'get_queue':
        this.send(service.queueStatus(this, message.id));
        return;
      case 'get_results':
        await service.results(this, message.jobId, message.fromIndex ?? 0, message.id);
        return;
    }
  }
}

/** ws hands over a Buffer (fragments concatenated) by default; the other forms are never copied. */
function frameOf(data: RawData, isBinary: boolean): Frame {
  const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  return isBinary ? bytes : bytes.toString('utf8');
}

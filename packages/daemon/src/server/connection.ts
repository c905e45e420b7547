import type { Socket } from 'node:net';
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
import type { Standing } from './admission';
import { CLOSE_CODES, type DaemonLimits } from './daemon-limits';
import type { DaemonEvent } from './events';
import type { JobApi } from './job-api';
import type { Client } from './job-service';
import { RequestError, toProtocolError } from './request-error';

export type ConnectionLimits = Pick<
  DaemonLimits,
  'helloTimeoutMs' | 'heartbeatMs' | 'maxUnpairedBytes' | 'maxBufferedBytes' | 'serveBelowBytes' | 'maxQueuedRequests'
>;

export interface ConnectionOptions {
  id: string;
  token: string;
  service: JobApi;
  welcome: Omit<DaemonMessageOf<'welcome'>, 'id'>;
  limits: ConnectionLimits;
  /** The TCP socket under the WebSocket: what it has not written yet, and when that drains. */
  transport: Socket;
  remoteAddress?: string;
  /** Asks for a place among the paired connections; a refusal says why. */
  admit(connection: Connection): ProtocolError | undefined;
  onEvent(event: DaemonEvent): void;
}

/** What a connection holds, for `Daemon.stats` (tests and diagnostics). */
export interface ConnectionStats {
  id: string;
  paired: boolean;
  /** Requests read and not yet answered. */
  queuedRequests: number;
  /** False while the daemon has stopped reading from it (too many requests waiting). */
  reading: boolean;
  /** Bytes written to it that its client has not read yet, now and at the most. */
  bufferedBytes: number;
  peakBufferedBytes: number;
  framesSent: number;
}

/** A reply can no longer be sent: the connection has closed. */
class ConnectionClosed extends Error {}

/**
 * One client: it must pair (`hello` with the token) before anything else, and is closed if it
 * does not. After that every request is answered, errors included, echoing the request's id; a bad
 * request never costs the client its connection. Requests are handled one at a time, in order, so
 * two submissions queue in the order they were sent.
 *
 * What the daemon holds for a client is bounded: before pairing, maxUnpairedBytes of input; after,
 * maxQueuedRequests requests (then it stops reading, and TCP holds the client back) and
 * maxBufferedBytes of output its client has not read. Requests wait while more than
 * serveBelowBytes are unread; a job event that would not fit closes the connection instead, since
 * an event cannot wait without holding up the job or every other client following it.
 */
export class Connection implements Client {
  readonly id: string;
  tokenHash = '';
  private paired = false;
  /** Set once the daemon has decided to close it, with the code and reason it gave. */
  private closing?: { code: number; reason: string };
  private requests = Promise.resolve();
  private queuedRequests = 0;
  private queuedBytes = 0;
  private unpairedBytes = 0;
  private lastActive = performance.now();
  private peakBufferedBytes = 0;
  private framesSent = 0;
  private readonly waitingForRoom = new Set<{ resolve(): void; reject(error: Error): void }>();
  private readonly helloTimer: NodeJS.Timeout;
  private readonly heartbeat: NodeJS.Timeout;
  private answeredPing = true;
  private readonly closed: Promise<void>;

  constructor(
    private readonly socket: WebSocket,
    private readonly options: ConnectionOptions,
  ) {
    this.id = options.id;
    const { limits, transport } = options;
    this.helloTimer = setTimeout(() => {
      const seconds = limits.helloTimeoutMs / 1000;
      this.refuse(undefined, { code: 'unauthorized', message: `no hello within ${seconds} s of connecting` }, CLOSE_CODES.policyViolation);
    }, limits.helloTimeoutMs);
    // Pings keep idle proxies from closing a connection that waits on a long queue, and find
    // clients that vanished without closing, which would otherwise hold a connection slot forever.
    this.heartbeat = setInterval(() => {
      if (!this.answeredPing) {
        socket.terminate();
        return;
      }
      this.answeredPing = false;
      socket.ping();
    }, limits.heartbeatMs);
    socket.on('pong', () => (this.answeredPing = true));
    // ws reads the socket first (its listener came first), so a chunk that completes the hello has
    // paired the connection by the time it is counted here.
    transport.on('data', this.countUnpaired);
    transport.on('drain', this.wakeWriters);
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => {
        clearTimeout(this.helloTimer);
        clearInterval(this.heartbeat);
        transport.off('data', this.countUnpaired);
        transport.off('drain', this.wakeWriters);
        for (const waiter of this.waitingForRoom) waiter.reject(new ConnectionClosed());
        this.waitingForRoom.clear();
        options.service.disconnect(this);
        const why = this.closing ?? { code, reason: reason.toString() };
        options.onEvent({ type: 'disconnected', clientId: this.id, ...why });
        resolve();
      });
    });
    socket.on('message', (data, isBinary) => this.receive(data, isBinary));
    // ws reports what it closes the connection for here: an oversized frame (1009), bad UTF-8 (1007).
    socket.on('error', (error) => options.onEvent({ type: 'warning', message: `connection ${this.id}: ${error.message}` }));
  }

  get open(): boolean {
    return this.socket.readyState === WebSocket.OPEN && this.closing === undefined;
  }

  /** Sends unless closed; a frame that would put more than maxBufferedBytes unread closes it. */
  send(message: DaemonMessage, bytes?: Uint8Array): void {
    if (!this.open) return;
    const frame = encodeMessage(message, bytes);
    const size = typeof frame === 'string' ? Buffer.byteLength(frame) : frame.length;
    const { maxBufferedBytes } = this.options.limits;
    const unread = this.socket.bufferedAmount;
    if (unread + size > maxBufferedBytes) {
      this.end(CLOSE_CODES.policyViolation, `too slow: over ${maxBufferedBytes} bytes unread (maxBufferedBytes); reconnect, get_results`);
      const { peakBufferedBytes } = this;
      this.options.onEvent({ type: 'slow_client', clientId: this.id, bufferedBytes: unread, frameBytes: size, peakBufferedBytes, limit: maxBufferedBytes });
      return;
    }
    this.socket.send(frame);
    this.framesSent++;
    this.lastActive = performance.now();
    this.peakBufferedBytes = Math.max(this.peakBufferedBytes, this.socket.bufferedAmount);
  }

  /** Resolves once fewer than serveBelowBytes wait unread; rejects once the connection is closed. */
  writable(): Promise<void> {
    if (!this.open) return Promise.reject(new ConnectionClosed());
    // 'drain' comes only after a write found the socket's own buffer full; below that, go on.
    const { transport, limits } = this.options;
    if (this.socket.bufferedAmount < limits.serveBelowBytes || !transport.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: () => {
          this.waitingForRoom.delete(waiter);
          resolve();
        },
        reject,
      };
      this.waitingForRoom.add(waiter);
    });
  }

  /** For Admission: whether closing it to make room for another would cost its client anything. */
  standing(): Standing {
    if (!this.open) return { state: 'closing' };
    const busy = this.queuedRequests > 0 || this.socket.bufferedAmount > 0 || this.options.service.follows(this);
    return busy ? { state: 'busy' } : { state: 'idle', since: this.lastActive };
  }

  stats(): ConnectionStats {
    return {
      id: this.id,
      paired: this.paired,
      queuedRequests: this.queuedRequests,
      reading: !this.socket.isPaused,
      bufferedBytes: this.socket.bufferedAmount,
      peakBufferedBytes: this.peakBufferedBytes,
      framesSent: this.framesSent,
    };
  }

  /** Gives up its place to a newer connection (see Admission). */
  displace(reason: string): void {
    this.end(CLOSE_CODES.tryAgainLater, reason);
  }

  /** For a daemon shutdown: asks the client to close, and stops waiting after `graceMs`. */
  async close(graceMs: number): Promise<void> {
    this.socket.close(CLOSE_CODES.goingAway, 'daemon stopping');
    const timer = setTimeout(() => this.socket.terminate(), graceMs);
    await this.closed;
    clearTimeout(timer);
  }

  private readonly countUnpaired = (chunk: Buffer): void => {
    if (this.paired) {
      this.options.transport.off('data', this.countUnpaired);
      return;
    }
    this.unpairedBytes += chunk.length;
    const { maxUnpairedBytes } = this.options.limits;
    if (this.unpairedBytes <= maxUnpairedBytes || !this.open) return;
    this.refuse(
      undefined,
      { code: 'too_large', message: `a connection may send at most ${maxUnpairedBytes} bytes before it has paired: send hello, with the token, first` },
      CLOSE_CODES.messageTooBig,
    );
  };

  private readonly wakeWriters = (): void => {
    if (this.socket.bufferedAmount >= this.options.limits.serveBelowBytes) return;
    for (const waiter of [...this.waitingForRoom]) waiter.resolve();
  };

  private receive(data: RawData, isBinary: boolean): void {
    // Frames that were already in flight when the connection was refused or closed.
    if (!this.open) return;
    this.lastActive = performance.now();
    const frame = frameOf(data, isBinary);
    const decoded = decodeClientMessage(frame);
    if (!this.paired) {
      this.pair(decoded);
      return;
    }
    if (!decoded.ok) {
      this.send({ v: PROTOCOL_VERSION, type: 'error', id: decoded.id, ...decoded.error });
      return;
    }
    const { message } = decoded;
    const size = typeof frame === 'string' ? frame.length : frame.byteLength;
    this.queue(size, +1);
    this.requests = this.requests.then(async () => {
      try {
        // Nothing is answered while the client has not read what it already got.
        await this.writable();
        await this.handle(message, decoded.bytes);
      } catch (error) {
        if (!(error instanceof ConnectionClosed)) {
          this.send({ v: PROTOCOL_VERSION, type: 'error', id: message.id, ...toProtocolError(error) });
        }
      } finally {
        this.queue(-size, -1);
      }
    });
  }

  /** Counts requests waiting to be answered, and stops reading while too many wait. */
  private queue(bytes: number, requests: number): void {
    this.queuedBytes += bytes;
    this.queuedRequests += requests;
    const { maxQueuedRequests, maxBufferedBytes } = this.options.limits;
    const full = this.queuedRequests >= maxQueuedRequests || this.queuedBytes >= maxBufferedBytes;
    if (full && !this.socket.isPaused) this.socket.pause();
    else if (!full && this.socket.isPaused) this.socket.resume();
  }

  private pair(decoded: DecodeResult<ClientMessage>): void {
    if (!decoded.ok) {
      this.refuse(decoded.id, decoded.error, CLOSE_CODES.policyViolation);
      return;
    }
    const { message } = decoded;
    if (message.type !== 'hello') {
      this.refuse(
        message.id,
        { code: 'unauthorized', message: `the first message must be hello with the pairing token, not ${message.type}` },
        CLOSE_CODES.policyViolation,
      );
      return;
    }
    if (!tokensEqual(message.token, this.options.token)) {
      this.refuse(
        message.id,
        { code: 'unauthorized', message: "wrong pairing token: run `styleset pair` on the daemon's machine and use the token it prints" },
        CLOSE_CODES.policyViolation,
      );
      return;
    }
    clearTimeout(this.helloTimer);
    const refusal = this.options.admit(this);
    if (refusal !== undefined) {
      this.refuse(message.id, refusal, CLOSE_CODES.tryAgainLater);
      return;
    }
    this.paired = true;
    this.tokenHash = tokenHash(message.token);
    this.send({ ...this.options.welcome, id: message.id });
  }

  private refuse(id: string | undefined, error: ProtocolError, code: number): void {
    this.send({ v: PROTOCOL_VERSION, type: 'error', id, ...error });
    this.end(code, error.code);
    this.options.onEvent({ type: 'refused', reason: `${error.code}: ${error.message}`, remoteAddress: this.options.remoteAddress });
  }

  /**
   * Closes from the daemon's side without waiting for the client's answer: the close frame goes
   * out after what is already queued, then the socket is destroyed, so a client that never answers
   * (or never reads) holds nothing beyond closeTimeoutMs.
   */
  private end(code: number, reason: string): void {
    if (this.closing !== undefined) return;
    this.closing = { code, reason };
    if (this.socket.isPaused) this.socket.resume();
    this.socket.close(code, reason);
    const { transport } = this.options;
    transport.end(() => transport.destroy());
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
        this.send(await service.status(this, message.jobId, message.id, message.follow ?? true));
        return;
      case 'get_queue':
        this.send(await service.queueStatus(this, message.id));
        return;
      case 'get_results':
        await service.results(this, message.jobId, message.fromIndex ?? 0, message.id);
        return;
      case 'list_styles':
        this.send({ ...reply, type: 'styles', styles: await service.listStyles() });
        return;
      case 'save_style':
        this.send({ ...reply, type: 'style', style: await service.saveStyle(this, message, bytes) });
        return;
      case 'delete_style':
        this.send({ ...reply, type: 'styles', styles: await service.deleteStyle(message.name) });
        return;
    }
  }
}

/** ws hands over a Buffer (fragments concatenated) by default; the other forms are never copied. */
function frameOf(data: RawData, isBinary: boolean): Frame {
  const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  return isBinary ? bytes : bytes.toString('utf8');
}

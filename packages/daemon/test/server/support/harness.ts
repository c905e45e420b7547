import { mkdtemp, rm } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeDaemonMessage, encodeMessage, PROTOCOL_VERSION, type ClientMessage, type DaemonMessage, type Frame } from '@styleset/protocol';
import { WebSocket, type ClientOptions } from 'ws';
import { readToken } from '../../../src/config/token';
import { StylesetClient, type Received } from '../../../src/server/client';
import { startDaemon, type Daemon, type DaemonOptions } from '../../../src/server/daemon';
import type { DaemonEvent } from '../../../src/server/events';
import { FakeEngine, type FakeEngineOptions } from './fake-engine';

export interface TestDaemonOptions {
  engine?: FakeEngineOptions;
  daemon?: Partial<Omit<DaemonOptions, 'engine' | 'dataDir' | 'configDir'>>;
}

/**
 * A real daemon on 127.0.0.1 (a free port) over temporary data and config folders, with the fake
 * engine. `close` stops everything it made and deletes the folders.
 */
export class TestDaemon {
  private readonly closers: (() => Promise<void>)[] = [];

  private constructor(
    readonly root: string,
    readonly options: TestDaemonOptions,
    public daemon: Daemon,
    public engine: FakeEngine,
    readonly token: string,
    readonly events: DaemonEvent[],
  ) {}

  static async start(options: TestDaemonOptions = {}): Promise<TestDaemon> {
    const root = await mkdtemp(join(tmpdir(), 'styleset-server-'));
    const events: DaemonEvent[] = [];
    const engine = new FakeEngine(options.engine);
    const daemon = await startDaemon(TestDaemon.daemonOptions(root, options, engine, events));
    return new TestDaemon(root, options, daemon, engine, await readToken(join(root, 'config')), events);
  }

  get dataDir(): string {
    return join(this.root, 'data');
  }

  get configDir(): string {
    return join(this.root, 'config');
  }

  get url(): string {
    return this.daemon.url;
  }

  /** Stops the daemon and starts a new one (new engine, new port) over the same folders. */
  async restart(engineOptions = this.options.engine): Promise<void> {
    await this.daemon.close();
    this.engine = new FakeEngine(engineOptions);
    this.daemon = await startDaemon(TestDaemon.daemonOptions(this.root, this.options, this.engine, this.events));
  }

  async client(token = this.token): Promise<StylesetClient> {
    const client = await StylesetClient.connect({ url: this.url, token });
    this.closers.push(() => client.close());
    return client;
  }

  /** A bare socket, for frames and headers the typed client would never send. */
  async socket(options?: ClientOptions): Promise<RawSocket> {
    const socket = await RawSocket.open(this.url, options);
    this.closers.push(() => socket.close());
    return socket;
  }

  /** A bare socket that has paired. */
  async pairedSocket(): Promise<RawSocket> {
    const socket = await this.socket();
    socket.send({ v: PROTOCOL_VERSION, id: 'hello', type: 'hello', token: this.token });
    const welcome = await socket.next();
    if (welcome.message.type !== 'welcome') throw new Error(`expected welcome, got ${JSON.stringify(welcome.message)}`);
    return socket;
  }

  async close(): Promise<void> {
    await Promise.all(this.closers.splice(0).map((close) => close()));
    await this.daemon.close();
    await rm(this.root, { recursive: true, force: true });
  }

  private static daemonOptions(root: string, options: TestDaemonOptions, engine: FakeEngine, events: DaemonEvent[]): DaemonOptions {
    return {
      host: '127.0.0.1',
      port: 0,
      ...options.daemon,
      engine,
      dataDir: join(root, 'data'),
      configDir: join(root, 'config'),
      onEvent: (event) => events.push(event),
    };
  }
}

/** Every daemon message a test sees is decoded with the protocol: malformed output fails the test. */
export class RawSocket {
  private readonly queue: Received[] = [];
  private waiting?: (received: Received) => void;
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const frame = isBinary ? (data as Buffer) : data.toString();
      const decoded = decodeDaemonMessage(frame);
      if (!decoded.ok) throw new Error(`the daemon sent an invalid message: ${decoded.error.message}`);
      const received = { message: decoded.message, bytes: decoded.bytes };
      if (this.waiting) this.waiting(received);
      else this.queue.push(received);
      this.waiting = undefined;
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static async open(url: string, options?: ClientOptions): Promise<RawSocket> {
    const ws = new WebSocket(url, { maxPayload: 64 * 2 ** 20, ...options });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return new RawSocket(ws);
  }

  /** A message object (encoded, with bytes if given) or a raw frame as is. */
  send(message: ClientMessage | Frame, bytes?: Uint8Array): void {
    const frame = typeof message === 'object' && !(message instanceof Uint8Array) && !(message instanceof ArrayBuffer)
      ? encodeMessage(message, bytes)
      : message;
    this.ws.send(frame);
  }

  next(timeoutMs = 5000): Promise<Received> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no message within ${timeoutMs} ms`)), timeoutMs);
      this.waiting = (received) => {
        clearTimeout(timer);
        resolve(received);
      };
    });
  }

  /** Messages up to and including the first of `type`. */
  async until(type: DaemonMessage['type']): Promise<Received[]> {
    const all: Received[] = [];
    for (;;) {
      const received = await this.next();
      all.push(received);
      if (received.message.type === type) return all;
    }
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close();
    await this.closed;
  }
}

/** The status of a hand-written request, so the Host header can be anything, or absent. */
export async function httpStatus(port: number, host: string | undefined, upgrade = true): Promise<number> {
  const socket = tcpConnect(port, '127.0.0.1');
  const lines = [
    'GET / HTTP/1.1',
    ...(host === undefined ? [] : [`Host: ${host}`]),
    ...(upgrade
      ? ['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==']
      : ['Connection: close']),
    '',
    '',
  ];
  socket.write(lines.join('\r\n'));
  const head = await new Promise<string>((resolve, reject) => {
    socket.once('data', (chunk) => resolve(chunk.toString()));
    socket.once('error', reject);
  });
  socket.destroy();
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
}

/** All events of a job, to its end. */
export async function collect(job: AsyncIterable<Received>): Promise<Received[]> {
  const all: Received[] = [];
  for await (const received of job) all.push(received);
  return all;
}

export const ofType = <T extends DaemonMessage['type']>(events: Received[], type: T): Received<T>[] =>
  events.filter((e) => e.message.type === type) as unknown as Received<T>[];

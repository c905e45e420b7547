import {
  LIMITS,
  PROTOCOL_VERSION,
  decodeDaemonMessage,
  encodeMessage,
  type ClientMessage,
  type DaemonMessage,
  type DaemonMessageOf,
  type DaemonMessageType,
  type ErrorCode,
  type ImageMimeType,
  type ImageStyleOptions,
  type ModelInfo,
  type StyleInfo,
  type SubmitMessage,
} from '@styleset/protocol';
import { WebSocket, type RawData } from 'ws';
import { StylesetError } from '../errors';

type WithoutRequestFields<M, K extends string> = M extends unknown ? Omit<M, 'v' | 'id' | K> : never;

/** A client message as the caller writes it: the client adds `v` and a fresh request `id`. */
export type ClientRequest = WithoutRequestFields<ClientMessage, never>;

/** A submission without its `type`; a reference image goes in `submit`'s `image` argument, which sets `attachment`. */
export type SubmitRequest = WithoutRequestFields<SubmitMessage, 'type' | 'attachment'>;

/** A daemon message, with the bytes its frame carried (a result's PNG, a progress preview). */
export interface Received<T extends DaemonMessageType = DaemonMessageType> {
  message: DaemonMessageOf<T>;
  bytes?: Uint8Array;
}

/** The daemon's `error` (or `job_error`) as an exception: `code` is the protocol's. */
export class DaemonError extends StylesetError {
  constructor(
    override readonly code: ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(code, message);
    this.name = 'DaemonError';
  }
}

export interface ConnectOptions {
  /** `ws://127.0.0.1:7391`, or `wss://` for a daemon behind a TLS proxy. */
  url: string;
  token: string;
  /** Handshake headers (Node only: browsers cannot set them). */
  headers?: Record<string, string>;
  /** For the connection and the welcome together; default 10 s. */
  timeoutMs?: number;
}

/**
 * A submitted job: iterate it for its events, up to and including `done` or `job_error`. Events
 * wait in memory until iterated, and a loop left early resumes when iterated again.
 */
export interface Job extends AsyncIterable<Received> {
  readonly jobId: string;
  /** Jobs ahead of it when it was accepted. */
  readonly position: number;
  /** Images it will produce. */
  readonly count: number;
}

/** The messages of one request id, in arrival order. */
class Inbox {
  private readonly queue: Received[] = [];
  private waiting?: { resolve(value: Received): void; reject(error: Error): void };
  private failure?: Error;

  push(received: Received): void {
    if (this.waiting === undefined) this.queue.push(received);
    else this.waiting.resolve(received);
    this.waiting = undefined;
  }

  fail(error: Error): void {
    this.failure ??= error;
    this.waiting?.reject(error);
    this.waiting = undefined;
  }

  next(): Promise<Received> {
    const received = this.queue.shift();
    if (received !== undefined) return Promise.resolve(received);
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }
}

/** A request in flight: its id and the inbox its replies land in. */
interface Call {
  id: string;
  inbox: Inbox;
}

const ENDS_JOB = new Set<DaemonMessageType>(['done', 'job_error']);
const FINAL_STATES = new Set(['done', 'error', 'cancelled', 'interrupted']);

/**
 * A small typed client for scripts, tests and `styleset status`: every request gets its own id, and
 * replies and job events are routed back to the call that made it.
 */
export class StylesetClient {
  private readonly inboxes = new Map<string, Inbox>();
  private requestCount = 0;
  private closeError?: Error;
  private welcomed?: DaemonMessageOf<'welcome'>;

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data, isBinary) => this.receive(data, isBinary));
    socket.on('close', (code, reason) => {
      const why = reason.length > 0 ? `${code} ${reason.toString()}` : String(code);
      this.failAll(new StylesetError('connection_closed', `the connection to the daemon closed (${why})`));
    });
    socket.on('error', (error) => this.failAll(error));
  }

  /** Connects and pairs: resolves once the daemon has welcomed the token. */
  static async connect(options: ConnectOptions): Promise<StylesetClient> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const socket = new WebSocket(options.url, {
      headers: options.headers,
      maxPayload: LIMITS.maxBinaryFrameBytes,
      perMessageDeflate: false,
      handshakeTimeout: timeoutMs,
    });
    const timer = setTimeout(() => socket.terminate(), timeoutMs);
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', (error) =>
          reject(new StylesetError('daemon_unreachable', `cannot reach the daemon at ${options.url}: ${error.message}`, { cause: error })),
        );
        socket.once('unexpected-response', (request, response) => {
          request.destroy();
          const hint = response.statusCode === 403 ? ": the daemon does not accept this Host name (see allowedHosts in its config.json)" : '';
          reject(new StylesetError('daemon_refused', `${options.url} refused the connection with HTTP ${response.statusCode}${hint}`));
        });
      });
      const client = new StylesetClient(socket);
      client.welcomed = await client.reply(client.request({ type: 'hello', token: options.token }), 'welcome');
      return client;
    } catch (error) {
      socket.terminate();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The daemon's version, limits and default model, as it greeted this connection. */
  get welcome(): DaemonMessageOf<'welcome'> {
    return this.welcomed!;
  }

  async listModels(): Promise<ModelInfo[]> {
    return (await this.reply(this.request({ type: 'list_models' }), 'models')).models;
  }

  async getModel(model: string): Promise<ModelInfo> {
    return (await this.reply(this.request({ type: 'get_model', model }), 'model')).model;
  }

  /** Resolves once the job is queued; rejects with the daemon's reason when it is refused. */
  async submit(request: SubmitRequest, image?: { bytes: Uint8Array; mime: ImageMimeType }): Promise<Job> {
    const attachment = image && { attachment: { byteLength: image.bytes.length, mime: image.mime } };
    const call = this.request({ ...request, type: 'submit', ...attachment } as ClientRequest, image?.bytes);
    const { jobId, position, count } = await this.reply(call, 'accepted', true);
    return { jobId, position, count, [Symbol.asyncIterator]: () => this.events(call) };
  }

  /** The job's state once it has stopped (a running job stops at its next step). */
  async cancel(jobId: string): Promise<DaemonMessageOf<'status'>> {
    return await this.reply(this.request({ type: 'cancel', jobId }), 'status');
  }

  async getStatus(jobId: string): Promise<DaemonMessageOf<'status'>> {
    return await this.reply(this.request({ type: 'get_status', jobId, follow: false }), 'status');
  }

  /** What the daemon is busy with, and this token's live jobs. */
  async getQueue(): Promise<DaemonMessageOf<'queue'>> {
    return await this.reply(this.request({ type: 'get_queue' }), 'queue');
  }

  /** The job's status, then, while it is unfinished, its remaining events up to its end. */
  async *follow(jobId: string): AsyncGenerator<Received> {
    const call = this.request({ type: 'get_status', jobId });
    const status = await this.reply(call, 'status', true);
    yield { message: status };
    if (FINAL_STATES.has(status.state)) {
      this.inboxes.delete(call.id);
      return;
    }
    yield* this.events(call);
  }

  /** The job's stored images from `fromIndex` on, and its status after them. */
  async getResults(jobId: string, fromIndex?: number): Promise<{ results: Received<'result'>[]; status: DaemonMessageOf<'status'> }> {
    const call = this.request({ type: 'get_results', jobId, fromIndex });
    const results: Received<'result'>[] = [];
    try {
      for (;;) {
        const received = await call.inbox.next();
        const { message } = received;
        if (message.type === 'result') results.push(received as Received<'result'>);
        else return { results, status: expect(message, 'status') };
      }
    } finally {
      this.inboxes.delete(call.id);
    }
  }

  /** Every style the daemon keeps. */
  async listStyles(): Promise<StyleInfo[]> {
    return (await this.reply(this.request({ type: 'list_styles' }), 'styles')).styles;
  }

  /** Saves a style from a finished set of this token's (`jobId`), or from a reference image and its prompt. */
  async saveStyle(
    request: { name: string; replace?: boolean } & ({ jobId: string } | { referencePrompt: string; options?: ImageStyleOptions }),
    image?: { bytes: Uint8Array; mime: ImageMimeType },
  ): Promise<StyleInfo> {
    const attachment = image && { attachment: { byteLength: image.bytes.length, mime: image.mime } };
    return (await this.reply(this.request({ ...request, type: 'save_style', ...attachment } as ClientRequest, image?.bytes), 'style')).style;
  }

  /** Deletes a style; the styles that are left. */
  async deleteStyle(name: string): Promise<StyleInfo[]> {
    return (await this.reply(this.request({ type: 'delete_style', name }), 'styles')).styles;
  }

  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((resolve) => this.socket.once('close', resolve));
    this.socket.close(1000);
    await closed;
  }

  /**
   * Leaving the loop early keeps the events coming: iterating again resumes where it stopped.
   * The request is forgotten once its last event has been handed out.
   */
  private async *events({ id, inbox }: Call): AsyncGenerator<Received> {
    for (;;) {
      const received = await inbox.next();
      const last = ENDS_JOB.has(received.message.type);
      if (last) this.inboxes.delete(id);
      yield received;
      if (last) return;
    }
  }

  private request(request: ClientRequest, bytes?: Uint8Array): Call {
    const call = { id: `r${++this.requestCount}`, inbox: new Inbox() };
    if (this.closeError !== undefined) {
      call.inbox.fail(this.closeError);
      return call;
    }
    this.inboxes.set(call.id, call.inbox);
    this.socket.send(encodeMessage({ ...request, v: PROTOCOL_VERSION, id: call.id } as ClientMessage, bytes));
    return call;
  }

  /**
   * The first message for a request, which must be of `type` (an `error` becomes a DaemonError).
   * `more`: the request goes on (a job's events), so its inbox stays open unless it failed.
   */
  private async reply<T extends DaemonMessageType>({ id, inbox }: Call, type: T, more = false): Promise<DaemonMessageOf<T>> {
    let open = false;
    try {
      const message = expect((await inbox.next()).message, type);
      open = more;
      return message;
    } finally {
      if (!open) this.inboxes.delete(id);
    }
  }

  private receive(data: RawData, isBinary: boolean): void {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    const decoded = decodeDaemonMessage(isBinary ? bytes : bytes.toString('utf8'));
    if (!decoded.ok) {
      // A daemon whose messages cannot be read (another protocol version, a bug) cannot be used.
      this.failAll(new DaemonError(decoded.error.code, `the daemon sent an unreadable message: ${decoded.error.message}`, decoded.error.field));
      this.socket.terminate();
      return;
    }
    const { message } = decoded;
    const inbox = message.id === undefined ? undefined : this.inboxes.get(message.id);
    if (inbox !== undefined) {
      inbox.push({ message, bytes: decoded.bytes });
    } else if (message.type === 'error' && message.id === undefined) {
      this.failAll(new DaemonError(message.code, message.message, message.field));
    }
  }

  private failAll(error: Error): void {
    this.closeError ??= error;
    for (const inbox of this.inboxes.values()) inbox.fail(error);
    this.inboxes.clear();
  }
}

function expect<T extends DaemonMessageType>(message: DaemonMessage, type: T): DaemonMessageOf<T> {
  if (message.type === type) return message as DaemonMessageOf<T>;
  if (message.type === 'error') throw new DaemonError(message.code, message.message, message.field);
  throw new StylesetError('unexpected_reply', `expected a ${type} message from the daemon, got ${message.type}`);
}

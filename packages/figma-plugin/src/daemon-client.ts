import {
  PROTOCOL_VERSION,
  decodeDaemonMessage,
  encodeMessage,
  type ClientMessage,
  type DaemonMessage,
  type DaemonMessageOf,
  type Frame,
  type ModelInfo,
  type Phase,
  type ResultFormat,
  type StyleInfo,
  type SubmitMessage,
  type VectorSummary,
} from '@styleset/protocol';
import type { Problem } from './problems';

/** What the client needs from a WebSocket: the browser's, or `ws` in tests. */
export interface ClientSocket {
  send(frame: string | Uint8Array): void;
  close(): void;
}

export interface SocketListener {
  open(): void;
  /** A text frame as a string, a binary frame as bytes. */
  frame(frame: Frame): void;
  close(code: number, reason: string): void;
  /** The page's Content-Security-Policy refused the address (in Figma: the manifest's `networkAccess`). */
  blocked(): void;
}

export type OpenSocket = (url: string, listener: SocketListener) => ClientSocket;

/** A run stopped short for a reason a person can be told; `explain` words it. */
export class DaemonProblem extends Error {
  constructor(readonly problem: Problem) {
    super(problem.message);
  }
}

export type Welcome = DaemonMessageOf<'welcome'>;

/** A `submit` as a run writes it; the client adds the version, the type and the request id. */
export type Submission = SubmitMessage extends infer M ? (M extends unknown ? Omit<M, 'v' | 'id' | 'type'> : never) : never;

export type JobEvent =
  | { type: 'queued'; /** Jobs ahead of it. */ position: number }
  | { type: 'running' }
  | { type: 'progress'; phase: Phase; step: number; total: number; /** A PNG strip of the batch in progress. */ preview?: Uint8Array }
  | {
      type: 'result';
      index: number;
      prompt: string;
      seed: number;
      width: number;
      height: number;
      /** A PNG, or an SVG's UTF-8 text. */
      format: ResultFormat;
      bytes: Uint8Array;
      /** For people: why the image is not quite what was asked (its background kept, no SVG). */
      warning?: string;
    };

/** `vector`: the SVGs' palettes, when the job asked for SVG. */
export type JobEnd = { status: 'done'; jobId: string; vector?: VectorSummary } | { status: 'cancelled' };

interface Pending {
  /** Every message carrying this request's id; true when the request is settled. */
  handle(message: DaemonMessage, bytes: Uint8Array | undefined): boolean;
  fail(problem: Problem): void;
}

interface Job {
  requestId: string;
  jobId?: string;
  cancelRequested: boolean;
}

type WithoutVersion<M> = M extends unknown ? Omit<M, 'v'> : never;

/**
 * One connection to the daemon, paired, carrying a run's requests one after another: model
 * information, then jobs (an inversion, then the set). Every failure is a `DaemonProblem`; once the
 * connection fails, every request still waiting fails with the same problem. Never throws into the
 * socket's callbacks.
 */
export class DaemonConnection {
  private socket?: ClientSocket;
  private opened = false;
  private failure?: Problem;
  private readonly pending = new Map<string, Pending>();
  private nextId = 1;
  private job?: Job;

  private constructor(private readonly url: string) {}

  /** Connects and pairs; resolves with the daemon's `welcome`. */
  static open(url: string, token: string, openSocket: OpenSocket): Promise<{ connection: DaemonConnection; welcome: Welcome }> {
    const connection = new DaemonConnection(url);
    return new Promise((resolve, reject) => {
      connection.pending.set('hello', {
        handle: (message) => {
          if (message.type === 'welcome') resolve({ connection, welcome: message });
          else if (message.type === 'error') connection.fail(message);
          else return false;
          return true;
        },
        fail: (problem) => reject(new DaemonProblem(problem)),
      });
      connection.socket = openSocket(url, {
        open: () => {
          connection.opened = true;
          connection.send({ type: 'hello', id: 'hello', token });
        },
        frame: (frame) => connection.onFrame(frame),
        close: (code, reason) => connection.onClose(code, reason),
        blocked: () => connection.fail({ code: 'blocked', message: `the plugin may not connect to ${url}` }),
      });
    });
  }

  /** The model's information: its size is the size a reference image is exported at. */
  getModel(model: string): Promise<ModelInfo> {
    const id = this.newId('model');
    return this.request<ModelInfo>(id, { type: 'get_model', id, model }, (message, resolve) => {
      if (message.type !== 'model') return false;
      resolve(message.model);
      return true;
    });
  }

  /** The styles the daemon keeps, shared by everyone who uses it. */
  listStyles(): Promise<StyleInfo[]> {
    const id = this.newId('styles');
    return this.request<StyleInfo[]>(id, { type: 'list_styles', id }, (message, resolve) => {
      if (message.type !== 'styles') return false;
      resolve(message.styles);
      return true;
    });
  }

  /**
   * Submits a job and follows it to its end: `done`, or `cancelled` after `cancel()`. Its events
   * go to `onEvent` as they come; a refusal or a failed job rejects.
   */
  runJob(submission: Submission, bytes: Uint8Array | undefined, onEvent: (event: JobEvent) => void): Promise<JobEnd> {
    const id = this.newId('job');
    const job: Job = { requestId: id, cancelRequested: this.job?.cancelRequested ?? false };
    this.job = job;
    const message = { ...submission, type: 'submit', id } as WithoutVersion<SubmitMessage>;
    return this.request<JobEnd>(
      id,
      message,
      (reply, resolve, reject, replyBytes) => {
        switch (reply.type) {
          case 'accepted':
            job.jobId = reply.jobId;
            if (job.cancelRequested) this.sendCancel(job);
            else onEvent(reply.position > 0 ? { type: 'queued', position: reply.position } : { type: 'running' });
            return false;
          case 'status':
            if (job.cancelRequested) return false;
            if (reply.state === 'queued') onEvent({ type: 'queued', position: reply.position ?? 0 });
            else if (reply.state === 'running') onEvent({ type: 'running' });
            return false;
          case 'progress':
            onEvent({ type: 'progress', phase: reply.phase, step: reply.step, total: reply.total, ...(replyBytes ? { preview: replyBytes } : {}) });
            return false;
          case 'result': {
            const { index, prompt, seed, width, height, format = 'png', warning } = reply;
            // The decoder guarantees a result's bytes: its attachment is required.
            onEvent({ type: 'result', index, prompt, seed, width, height, format, bytes: replyBytes!, ...(warning === undefined ? {} : { warning }) });
            return false;
          }
          case 'done':
            resolve(reply.vector === undefined ? { status: 'done', jobId: reply.jobId } : { status: 'done', jobId: reply.jobId, vector: reply.vector });
            return true;
          case 'job_error':
            if (reply.code === 'cancelled') resolve({ status: 'cancelled' });
            else reject(problemOf(reply));
            return true;
          default:
            return false;
        }
      },
      bytes,
    );
  }

  /**
   * Cancels the job in flight on the daemon (its images so far stay delivered), or the next one
   * as soon as it is accepted; its `runJob` then resolves `cancelled`.
   */
  cancel(): void {
    const job = this.job ?? (this.job = { requestId: '', cancelRequested: false });
    if (job.cancelRequested) return;
    job.cancelRequested = true;
    if (job.jobId !== undefined) this.sendCancel(job);
  }

  close(): void {
    if (this.failure === undefined) this.failure = { code: 'connection_lost', message: 'closed by the plugin' };
    this.socket?.close();
  }

  private sendCancel(job: Job): void {
    // Its reply is a `status`, or an `error` when the job had just ended: either way the job's own
    // last event follows, or came already. Nobody waits for the reply.
    const id = this.newId('cancel');
    this.pending.set(id, { handle: () => true, fail: () => {} });
    this.send({ type: 'cancel', id, jobId: job.jobId! });
  }

  private newId(prefix: string): string {
    return `${prefix}-${this.nextId++}`;
  }

  /**
   * A request whose replies `handle` reads until it settles (returns true). An `error` reply fails
   * the request alone: the connection stays.
   */
  private request<T>(
    id: string,
    message: WithoutVersion<ClientMessage>,
    handle: (message: DaemonMessage, resolve: (value: T) => void, reject: (problem: DaemonProblem) => void, bytes: Uint8Array | undefined) => boolean,
    bytes?: Uint8Array,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.failure !== undefined) {
        reject(new DaemonProblem(this.failure));
        return;
      }
      this.pending.set(id, {
        handle: (reply, replyBytes) => {
          if (reply.type !== 'error') return handle(reply, resolve, reject, replyBytes);
          reject(problemOf(reply));
          return true;
        },
        fail: (problem) => reject(new DaemonProblem(problem)),
      });
      this.send(message, bytes);
    });
  }

  private onFrame(frame: Frame): void {
    if (this.failure !== undefined) return;
    const decoded = decodeDaemonMessage(frame);
    if (!decoded.ok) {
      // Another protocol version lands here too: the decoder checks `v` first and names both.
      this.fail(decoded.error);
      return;
    }
    const { message, bytes } = decoded;
    const request = message.id === undefined ? undefined : this.pending.get(message.id);
    if (request === undefined) {
      // An error for no request of ours is about the connection (e.g. pairing); anything else is
      // a late reply (a cancel's status) and means nothing.
      if (message.type === 'error') this.fail(message);
      return;
    }
    if (request.handle(message, bytes)) this.pending.delete(message.id!);
  }

  private onClose(code: number, reason: string): void {
    if (!this.opened) this.fail({ code: 'daemon_unreachable', message: `nothing answered at ${this.url}` });
    else this.fail({ code: 'connection_lost', message: reason, closeCode: code });
  }

  /** Fails the connection and every request waiting on it, once; the first problem is the one reported. */
  private fail({ code, message, field, closeCode }: Problem): void {
    if (this.failure !== undefined) return;
    // Only what is known: the decoder's and the daemon's errors carry more fields than a Problem.
    const problem: Problem = { code, message };
    if (field !== undefined) problem.field = field;
    if (closeCode !== undefined) problem.closeCode = closeCode;
    this.failure = problem;
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const request of waiting) request.fail(problem);
    this.socket?.close();
  }

  private send(request: WithoutVersion<ClientMessage>, bytes?: Uint8Array): void {
    this.socket?.send(encodeMessage({ ...request, v: PROTOCOL_VERSION } as ClientMessage, bytes));
  }
}

/** A daemon's error as a problem: only the fields a Problem has. */
function problemOf({ code, message, field }: Problem): DaemonProblem {
  return new DaemonProblem(field === undefined ? { code, message } : { code, message, field });
}

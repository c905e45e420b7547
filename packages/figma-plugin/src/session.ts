import {
  PROTOCOL_VERSION,
  decodeDaemonMessage,
  encodeMessage,
  type ClientMessage,
  type DaemonMessage,
  type Frame,
  type Phase,
} from '@styleset/protocol';
import type { Problem } from './problems';
import { progressFraction } from './progress';

/** What the session needs from a WebSocket: the browser's, or `ws` in tests. */
export interface ClientSocket {
  send(frame: string | Uint8Array): void;
  close(): void;
}

export interface SocketListener {
  open(): void;
  /** A text frame as a string, a binary frame as bytes. */
  frame(frame: Frame): void;
  close(code: number, reason: string): void;
}

export type OpenSocket = (url: string, listener: SocketListener) => ClientSocket;

export interface SessionRequest {
  url: string;
  token: string;
  /** One image each; the first is the set's style reference. Options are the daemon's defaults. */
  prompts: string[];
}

export type SessionState = 'connecting' | 'pairing' | 'submitting' | 'queued' | 'running' | 'cancelling';

export type Outcome =
  | { status: 'done'; count: number }
  | { status: 'cancelled'; completed: number }
  | { status: 'failed'; completed: number; problem: Problem };

export interface SessionResult {
  index: number;
  prompt: string;
  seed: number;
  width: number;
  height: number;
  png: Uint8Array;
}

export type SessionEvent =
  | { type: 'state'; state: SessionState; /** Jobs ahead, while queued. */ position?: number }
  | { type: 'progress'; phase: Phase; step: number; total: number; fraction: number; preview?: Uint8Array }
  | { type: 'result'; result: SessionResult }
  | { type: 'finished'; outcome: Outcome };

type WithoutVersion<M> = M extends unknown ? Omit<M, 'v'> : never;

/** A client message as the session writes it; `send` adds the version. */
type Request = WithoutVersion<ClientMessage>;

/** Request ids: one connection carries one run, so each request type is sent at most once. */
const HELLO = 'hello';
const SUBMIT = 'submit';
/** Denoising steps between previews: ten over the default model's 50 steps. */
export const PREVIEW_EVERY = 5;
const CANCEL = 'cancel';

/**
 * One run over its own connection: connect, pair with the token (browsers cannot set headers, so
 * it travels in `hello`), submit the set, hand out each image as it arrives, and end with exactly
 * one `finished` event, whatever happens. Never throws into the socket's callbacks.
 */
export class GenerationSession {
  private state: SessionState | 'finished' = 'connecting';
  private socket?: ClientSocket;
  private opened = false;
  private jobId?: string;
  private cancelRequested = false;
  private completed = 0;

  constructor(
    private readonly request: SessionRequest,
    private readonly openSocket: OpenSocket,
    private readonly emit: (event: SessionEvent) => void,
  ) {}

  start(): void {
    this.emit({ type: 'state', state: 'connecting' });
    this.socket = this.openSocket(this.request.url, {
      open: () => this.onOpen(),
      frame: (frame) => this.onFrame(frame),
      close: (code, reason) => this.onClose(code, reason),
    });
  }

  /** A job already accepted is cancelled on the daemon; its images so far stay delivered. */
  cancel(): void {
    if (this.state === 'finished' || this.cancelRequested) return;
    this.cancelRequested = true;
    if (this.jobId !== undefined) {
      this.setState('cancelling');
      this.send({ type: 'cancel', id: CANCEL, jobId: this.jobId });
    } else if (this.state !== 'submitting') {
      // Nothing was queued yet. A submission in flight is cancelled once it is accepted.
      this.finish({ status: 'cancelled', completed: 0 });
    }
  }

  private onOpen(): void {
    if (this.state === 'finished') return;
    this.opened = true;
    this.setState('pairing');
    this.send({ type: 'hello', id: HELLO, token: this.request.token });
  }

  private onFrame(frame: Frame): void {
    if (this.state === 'finished') return;
    const decoded = decodeDaemonMessage(frame);
    if (!decoded.ok) {
      // Another protocol version lands here too: the decoder checks `v` first and names both.
      this.fail(decoded.error);
      return;
    }
    this.handle(decoded.message, decoded.bytes);
  }

  private handle(message: DaemonMessage, bytes: Uint8Array | undefined): void {
    switch (message.type) {
      case 'welcome':
        this.submit(message.limits.maxPromptsPerJob);
        return;
      case 'accepted':
        this.jobId = message.jobId;
        if (this.cancelRequested) {
          this.setState('cancelling');
          this.send({ type: 'cancel', id: CANCEL, jobId: message.jobId });
        } else {
          this.setQueued(message.position);
        }
        return;
      case 'status':
        if (this.state === 'cancelling') return;
        if (message.state === 'queued') this.setQueued(message.position ?? 0);
        else if (message.state === 'running') this.setState('running');
        return;
      case 'progress':
        if (this.state === 'queued') this.setState('running');
        this.emit({
          type: 'progress',
          phase: message.phase,
          step: message.step,
          total: message.total,
          fraction: progressFraction(message.phase, message.step, message.total),
          // A PNG strip of the images in progress, when the daemon sent one.
          ...(bytes ? { preview: bytes } : {}),
        });
        return;
      case 'result': {
        const { index, prompt, seed, width, height } = message;
        this.completed++;
        // The decoder guarantees a result's bytes: its attachment is required.
        this.emit({ type: 'result', result: { index, prompt, seed, width, height, png: bytes! } });
        return;
      }
      case 'done':
        this.finish({ status: 'done', count: message.count });
        return;
      case 'job_error':
        if (message.code === 'cancelled') this.finish({ status: 'cancelled', completed: this.completed });
        else this.fail(message);
        return;
      case 'error':
        // A cancel that lost the race with the job's end: the job's own last event follows.
        if (message.id === CANCEL) return;
        this.fail(message);
        return;
    }
  }

  private submit(daemonMax: number): void {
    const { prompts } = this.request;
    if (this.cancelRequested) {
      this.finish({ status: 'cancelled', completed: 0 });
      return;
    }
    // The daemon may be stricter than the protocol's limit; it says so in `welcome`.
    if (prompts.length > daemonMax) {
      this.fail({
        code: 'invalid_input',
        message: `this daemon takes at most ${daemonMax} images per set, and the set has ${prompts.length}`,
        field: 'prompts',
      });
      return;
    }
    this.setState('submitting');
    this.send({ type: 'submit', id: SUBMIT, kind: 'set', prompts, options: { previewEvery: PREVIEW_EVERY } });
  }

  private onClose(code: number, reason: string): void {
    if (this.state === 'finished') return;
    if (!this.opened) {
      this.fail({ code: 'daemon_unreachable', message: `nothing answered at ${this.request.url}` });
      return;
    }
    this.fail({ code: 'connection_lost', message: reason, closeCode: code });
  }

  private setQueued(position: number): void {
    if (position > 0) this.setState('queued', position);
    else this.setState('running');
  }

  private setState(state: SessionState, position?: number): void {
    if (this.state === state && state !== 'queued') return;
    this.state = state;
    this.emit(position === undefined ? { type: 'state', state } : { type: 'state', state, position });
  }

  private fail({ code, message, field, closeCode }: Problem): void {
    // Only what is known: the decoder's and the daemon's errors carry more fields than a Problem.
    const problem: Problem = { code, message };
    if (field !== undefined) problem.field = field;
    if (closeCode !== undefined) problem.closeCode = closeCode;
    this.finish({ status: 'failed', completed: this.completed, problem });
  }

  private finish(outcome: Outcome): void {
    if (this.state === 'finished') return;
    this.state = 'finished';
    this.emit({ type: 'finished', outcome });
    this.socket?.close();
  }

  private send(request: Request): void {
    this.socket?.send(encodeMessage({ ...request, v: PROTOCOL_VERSION } as ClientMessage));
  }
}

import { decodeDaemonMessage, encodeMessage, PROTOCOL_VERSION, type ClientMessage, type DaemonMessage } from '@styleset/protocol';
import { WebSocket } from 'ws';

/** A message as one of the test's connections received it; `seq` orders arrivals across connections. */
export interface Arrival {
  seq: number;
  message: DaemonMessage;
  bytes?: Uint8Array;
}

let arrivals = 0;

/**
 * A bare paired connection that logs every message in arrival order, numbered across all
 * connections of the test process, and lets a test act the moment a message arrives.
 */
export class Wire {
  readonly log: Arrival[] = [];
  private readonly listeners = new Set<(arrival: Arrival) => void>();

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const decoded = decodeDaemonMessage(isBinary ? (data as Buffer) : data.toString());
      if (!decoded.ok) throw new Error(`the daemon sent an invalid message: ${decoded.error.message}`);
      const arrival = { seq: ++arrivals, message: decoded.message, bytes: decoded.bytes };
      this.log.push(arrival);
      for (const listener of this.listeners) listener(arrival);
    });
  }

  /** Connects and pairs; resolves with the connection and the arrival of its `welcome`. */
  static async open(url: string, token: string): Promise<{ wire: Wire; welcome: Arrival }> {
    const ws = new WebSocket(url, { maxPayload: 64 * 2 ** 20 });
    const wire = new Wire(ws);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const welcome = wire.next((a) => a.message.type === 'welcome' || a.message.type === 'error');
    wire.send({ v: PROTOCOL_VERSION, id: 'hello', type: 'hello', token });
    return { wire, welcome: await welcome };
  }

  send(message: ClientMessage, bytes?: Uint8Array): void {
    this.ws.send(encodeMessage(message, bytes));
  }

  /** Calls `listener` synchronously on each arrival from now on; returns the unsubscribe. */
  on(listener: (arrival: Arrival) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The next arrival (from now on) that matches. */
  next(match: (arrival: Arrival) => boolean): Promise<Arrival> {
    return new Promise((resolve) => {
      const off = this.on((arrival) => {
        if (!match(arrival)) return;
        off();
        resolve(arrival);
      });
    });
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    const closed = new Promise<void>((resolve) => this.ws.once('close', () => resolve()));
    this.ws.close(1000);
    return closed;
  }
}

/** Whether an arrival is the end of the job with this submit id. */
export function endsJob(arrival: Arrival, requestId: string): boolean {
  return arrival.message.id === requestId && (arrival.message.type === 'done' || arrival.message.type === 'job_error');
}

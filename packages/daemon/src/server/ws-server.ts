import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { LIMITS, PROTOCOL_VERSION, encodeMessage } from '@styleset/protocol';
import { WebSocket, WebSocketServer, type ServerOptions } from 'ws';
import { CLOSE_CODES } from './daemon-limits';
import { isAllowedHost } from './host-check';

export interface ListenAddress {
  host: string;
  /** Skipped with `onSkipped` when the machine does not have it (no IPv6), instead of failing. */
  optional?: boolean;
}

export interface ListenOptions {
  /** Every address gets the same port; the first decides it when `port` is 0. */
  addresses: readonly ListenAddress[];
  port: number;
  allowedHosts: readonly string[];
  /** How long a closing connection gets to answer the close before its socket is destroyed. */
  closeTimeoutMs: number;
  /** `transport` is the TCP socket under `socket`, for flow control. */
  onConnection(socket: WebSocket, request: IncomingMessage, transport: Socket): void;
  onRefused(reason: string, request: IncomingMessage): void;
  onSkipped(host: string, error: NodeJS.ErrnoException): void;
}

export interface Listener {
  readonly port: number;
  /** The addresses actually listened on. */
  readonly hosts: readonly string[];
  /** Stops accepting; open sockets are the caller's to close first. */
  close(): Promise<void>;
}

/** Why ws's own close for an oversized frame happens; fits a close reason (123 bytes at most). */
const FRAME_TOO_LARGE_REASON = `frame over ${LIMITS.maxBinaryFrameBytes} bytes (maxBinaryFrameBytes)`;

/**
 * ws closes a connection whose frame is over `maxPayload` with 1009 and nothing else, before
 * buffering the frame. The client learns which limit it hit: an `error` first, then the close
 * with a reason. ws calls `close(1009)` without a reason only there; the daemon always gives one.
 */
class DaemonSocket extends WebSocket {
  override close(code?: number, data?: string | Buffer): void {
    if (code === CLOSE_CODES.messageTooBig && data === undefined && this.readyState === WebSocket.OPEN) {
      const { maxBinaryFrameBytes, maxTextMessageBytes, maxImageBytes } = LIMITS;
      const message =
        `a frame was over ${maxBinaryFrameBytes} bytes, the most the daemon reads (a 4-byte length, ` +
        `a JSON header of at most ${maxTextMessageBytes} bytes and an image of at most ${maxImageBytes}); ` +
        'send a smaller image';
      this.send(encodeMessage({ v: PROTOCOL_VERSION, type: 'error', code: 'too_large', message }));
      super.close(code, FRAME_TOO_LARGE_REASON);
      return;
    }
    super.close(code, data);
  }
}

/**
 * HTTP servers (one per address, one port) that only upgrade to WebSocket, and only for allowed
 * Host names. How many connections are let in is the caller's (see Admission).
 */
export async function listen(options: ListenOptions): Promise<Listener> {
  const serverOptions: ServerOptions<typeof DaemonSocket> & { closeTimeout: number } = {
    noServer: true,
    // ws closes the connection (1009) on a bigger frame before buffering it.
    maxPayload: LIMITS.maxBinaryFrameBytes,
    // Compression would let a small frame inflate into a huge one.
    perMessageDeflate: false,
    WebSocket: DaemonSocket,
    closeTimeout: options.closeTimeoutMs,
  };
  const sockets = new WebSocketServer(serverOptions);
  const handle = (server: Server): void => {
    server.on('request', (request, response) => {
      const allowed = isAllowedHost(request.headers.host, options.allowedHosts);
      response.writeHead(allowed ? 426 : 403, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(allowed ? 'Styleset daemon: connect with a WebSocket client.\n' : 'Host not allowed\n');
    });
    server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
      const host = request.headers.host;
      if (!isAllowedHost(host, options.allowedHosts)) {
        options.onRefused(`Host ${JSON.stringify(host ?? '')} is not allowed`, request);
        refuseUpgrade(socket, 403, 'Forbidden', 'Host not allowed');
        return;
      }
      sockets.handleUpgrade(request, socket, head, (ws) => options.onConnection(ws, request, socket));
    });
  };
  const servers = await listenAll(options.addresses, options.port, handle, options.onSkipped);
  return {
    port: (servers[0].address() as AddressInfo).port,
    hosts: servers.map((server) => (server.address() as AddressInfo).address),
    close: async () => {
      sockets.close();
      await Promise.all(servers.map(closeServer));
    },
  };
}

/** Attempts at finding a free port on every address, when the first address picks it. */
const FREE_PORT_ATTEMPTS = 5;

async function listenAll(
  addresses: readonly ListenAddress[],
  port: number,
  handle: (server: Server) => void,
  onSkipped: ListenOptions['onSkipped'],
): Promise<Server[]> {
  for (let attempt = 1; ; attempt++) {
    const servers: Server[] = [];
    const skipped: [string, NodeJS.ErrnoException][] = [];
    try {
      for (const address of addresses) {
        const server = createServer();
        handle(server);
        const chosen = servers.length === 0 ? port : (servers[0].address() as AddressInfo).port;
        try {
          await bind(server, chosen, address.host);
          servers.push(server);
        } catch (error) {
          const { code } = error as NodeJS.ErrnoException;
          // No such address here (IPv6 off, no ::1 on loopback): the others still serve.
          if (!address.optional || servers.length === 0 || !['EADDRNOTAVAIL', 'EAFNOSUPPORT'].includes(code ?? '')) throw error;
          skipped.push([address.host, error as NodeJS.ErrnoException]);
        }
      }
      for (const [host, error] of skipped) onSkipped(host, error);
      return servers;
    } catch (error) {
      await Promise.all(servers.map(closeServer));
      // A free port on the first address may be taken on another: pick again.
      const retry = port === 0 && servers.length > 0 && (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
      if (!retry || attempt === FREE_PORT_ATTEMPTS) throw error;
    }
  }
}

function bind(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function refuseUpgrade(socket: Socket, status: number, statusText: string, body: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${statusText}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

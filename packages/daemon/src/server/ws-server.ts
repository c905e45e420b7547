import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { LIMITS } from '@styleset/protocol';
import { WebSocketServer, type WebSocket } from 'ws';
import { isAllowedHost } from './host-check';

export interface ListenOptions {
  host: string;
  port: number;
  allowedHosts: readonly string[];
  maxConnections: number;
  onConnection(socket: WebSocket, request: IncomingMessage): void;
  onRefused(reason: string, request: IncomingMessage): void;
}

export interface Listener {
  readonly port: number;
  /** Stops accepting; open sockets are the caller's to close first. */
  close(): Promise<void>;
}

/** An HTTP server that only upgrades to WebSocket, and only for allowed Host names. */
export async function listen(options: ListenOptions): Promise<Listener> {
  const sockets = new WebSocketServer({
    noServer: true,
    // ws closes the connection (1009) on a bigger frame before buffering it.
    maxPayload: LIMITS.maxBinaryFrameBytes,
    // Compression would let a small frame inflate into a huge one.
    perMessageDeflate: false,
  });
  const server = createServer((request, response) => {
    const allowed = isAllowedHost(request.headers.host, options.allowedHosts);
    response.writeHead(allowed ? 426 : 403, { 'content-type': 'text/plain; charset=utf-8' });
    response.end(allowed ? 'Styleset daemon: connect with a WebSocket client.\n' : 'Host not allowed\n');
  });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const host = request.headers.host;
    if (!isAllowedHost(host, options.allowedHosts)) {
      options.onRefused(`Host ${JSON.stringify(host ?? '')} is not allowed`, request);
      refuseUpgrade(socket, 403, 'Forbidden', 'Host not allowed');
      return;
    }
    if (sockets.clients.size >= options.maxConnections) {
      options.onRefused(`already ${sockets.clients.size} connections, the limit`, request);
      refuseUpgrade(socket, 503, 'Service Unavailable', 'Too many connections');
      return;
    }
    sockets.handleUpgrade(request, socket, head, (ws) => options.onConnection(ws, request));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        sockets.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function refuseUpgrade(socket: Duplex, status: number, statusText: string, body: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${statusText}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

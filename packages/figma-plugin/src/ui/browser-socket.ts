import type { OpenSocket } from '../daemon-client';

/** Addresses the page's Content-Security-Policy refused, as the browser reports them. */
const refused = new Set<string>();
document.addEventListener('securitypolicyviolation', (event) => {
  if (event.effectiveDirective === 'connect-src') refused.add(event.blockedURI);
});

const sameAddress = (a: string, b: string) => a.replace(/\/$/, '') === b.replace(/\/$/, '');

/**
 * The browser's WebSocket behind the client's socket interface. A connection the page's policy
 * refuses (Figma turns the manifest's `networkAccess` into one) fails with an `error` and, in
 * Chromium, no `close` at all: an error before the socket opened ends the attempt here.
 */
export const openBrowserSocket: OpenSocket = (url, listener) => {
  const socket = new WebSocket(url);
  let opened = false;
  let settled = false;
  // Binary frames (result PNGs) as ArrayBuffers, which the protocol decodes without copying.
  socket.binaryType = 'arraybuffer';
  socket.onopen = () => {
    opened = true;
    listener.open();
  };
  socket.onmessage = (event: MessageEvent<string | ArrayBuffer>) => listener.frame(event.data);
  socket.onerror = () => {
    // After it opened, an error is followed by its close, which says how it closed.
    if (opened || settled) return;
    settled = true;
    if ([...refused].some((blocked) => sameAddress(blocked, url))) listener.blocked();
    else listener.close(1006, '');
  };
  socket.onclose = (event) => {
    if (settled) return;
    settled = true;
    listener.close(event.code, event.reason);
  };
  return {
    send: (frame) => socket.send(frame),
    close: () => socket.close(1000),
  };
};

import type { OpenSocket } from '../session';

/** The browser's WebSocket behind the session's socket interface. */
export const openBrowserSocket: OpenSocket = (url, listener) => {
  const socket = new WebSocket(url);
  // Binary frames (result PNGs) as ArrayBuffers, which the protocol decodes without copying.
  socket.binaryType = 'arraybuffer';
  socket.onopen = () => listener.open();
  socket.onmessage = (event: MessageEvent<string | ArrayBuffer>) => listener.frame(event.data);
  socket.onclose = (event) => listener.close(event.code, event.reason);
  return {
    send: (frame) => socket.send(frame),
    close: () => socket.close(1000),
  };
};

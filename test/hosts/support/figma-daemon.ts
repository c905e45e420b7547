// The daemon as a designer runs it for the Figma host tests: the built CLI's `styleset serve` (its
// embedded icon model) in a process of its own, on loopback, with data and config folders of the
// test's; the token from `styleset pair`. And a relay that stands between the plugin and the daemon
// to lose the daemon at an exact point of a run.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { decodeDaemonMessage, LIMITS } from '@styleset/protocol';
import { WebSocket, WebSocketServer, type RawData } from 'ws';

const CLI = join(import.meta.dirname, '../../../packages/daemon/dist/cli.js');

export interface Serve {
  url: string;
  port: number;
  token: string;
  dataDir: string;
  configDir: string;
  /** Stops the daemon; SIGKILL stands for a crash (no goodbye), SIGTERM for Ctrl-C. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Folders for one test file's daemon, kept across restarts so it comes back with its jobs. */
export async function daemonFolders(): Promise<{ dataDir: string; configDir: string; dispose(): Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'styleset-figma-host-'));
  return { dataDir: join(root, 'data'), configDir: join(root, 'config'), dispose: () => rm(root, { recursive: true, force: true }) };
}

/** `styleset serve`, started and listening; on `port` to come back at the same address. */
export async function startServe(folders: { dataDir: string; configDir: string }, port = 0): Promise<Serve> {
  const child: ChildProcess = spawn(
    process.execPath,
    [CLI, 'serve', '--json', '--host', '127.0.0.1', '--port', String(port), '--data-dir', folders.dataDir, '--config-dir', folders.configDir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const listening = await new Promise<{ url: string; port: number }>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const event = JSON.parse(line) as { type: string; url: string; port: number };
      if (event.type === 'listening') resolve(event);
    });
    child.once('exit', (code) => reject(new Error(`styleset serve exited (${code}) before it listened: ${stderr}`)));
  });
  const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'pair', '--json', '--config-dir', folders.configDir]);
  const { token } = JSON.parse(stdout) as { token: string };
  return {
    ...listening,
    token,
    ...folders,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

export interface Relay {
  url: string;
  /** Connections the relay carried, and how many of them it cut. */
  connections: number;
  cuts: number;
  close(): Promise<void>;
}

/**
 * A WebSocket relay in front of the daemon that passes every frame through unchanged, until the
 * daemon sends the first `result`: that frame still reaches the plugin, then `cut` runs (it kills
 * the daemon), nothing more from the daemon is passed on, and once the daemon's side has closed
 * the plugin's side is dropped without a close frame, as a crashed daemon's would be. The plugin
 * thus loses the daemon after exactly one image, whatever the timing.
 */
export async function startRelay(target: () => string, cut: () => Promise<void>): Promise<Relay> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: LIMITS.maxBinaryFrameBytes });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const relay: Relay = {
    url: `ws://127.0.0.1:${(server.address() as { port: number }).port}`,
    connections: 0,
    cuts: 0,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  server.on('connection', (plugin) => {
    relay.connections++;
    const daemon = new WebSocket(target(), { maxPayload: LIMITS.maxBinaryFrameBytes });
    const early: [RawData, boolean][] = [];
    let severed = false;
    /** The last frame passed on, written out: the plugin must have all of it before its side drops. */
    let written = Promise.resolve();
    daemon.on('open', () => {
      for (const [data, isBinary] of early.splice(0)) daemon.send(data, { binary: isBinary });
    });
    plugin.on('message', (data, isBinary) => {
      if (daemon.readyState === WebSocket.OPEN) daemon.send(data, { binary: isBinary });
      else early.push([data, isBinary]);
    });
    daemon.on('message', (data, isBinary) => {
      if (severed) return;
      written = new Promise((resolve) => plugin.send(data, { binary: isBinary }, () => resolve()));
      const decoded = decodeDaemonMessage(isBinary ? new Uint8Array(data as Buffer) : data.toString());
      if (decoded.ok && decoded.message.type === 'result') {
        severed = true;
        relay.cuts++;
        void cut();
      }
    });
    const drop = () => void written.then(() => plugin.terminate());
    daemon.on('close', drop);
    daemon.on('error', drop);
    plugin.on('close', () => daemon.close());
  });
  return relay;
}

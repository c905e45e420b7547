// A real redis-server (Debian's package, `.ci/install-hosts`) for the team-mode host tests: on a
// free loopback port, its data (append-only file) in a temporary folder, so a restart on the same
// port comes back with what it held. It fails loudly when it cannot start: a missing server is a
// broken CI machine, not a reason to skip.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from '../../support/free-port';

export interface RedisServer {
  port: number;
  /** `redis://127.0.0.1:PORT` (with the password when there is one). */
  url: string;
  dir: string;
  /** Stops it (SIGKILL: a crash; the append-only file keeps what was written) and starts it again on the same port and folder. */
  restart(signal?: NodeJS.Signals): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<void>;
  dispose(): Promise<void>;
}

export interface RedisServerOptions {
  /** `requirepass`: clients must authenticate. */
  password?: string;
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const found = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (found.error !== undefined || found.status !== 0) {
    throw new Error(`redis-server is not installed or does not run (${found.error?.message ?? found.stderr}): run .ci/install-hosts (apt-get install redis-server)`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'styleset-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--daemonize', 'no', '--loglevel', 'notice'];
    if (options.password !== undefined) args.push('--requirepass', options.password);
    const started = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    let output = '';
    started.stderr!.on('data', (chunk) => (output += chunk));
    await new Promise<void>((resolve, reject) => {
      const lines = createInterface({ input: started.stdout! });
      lines.on('line', (line) => {
        output += `${line}\n`;
        if (/Ready to accept connections/.test(line)) resolve();
      });
      started.once('exit', (code, signal) => reject(new Error(`redis-server on port ${port} exited (${code ?? signal}) before it was ready:\n${output}`)));
      started.once('error', reject);
    });
  };
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill(signal);
    await exited;
  };
  await start();
  const auth = options.password === undefined ? '' : `:${encodeURIComponent(options.password)}@`;
  return {
    port,
    url: `redis://${auth}127.0.0.1:${port}`,
    dir,
    restart: async (signal = 'SIGKILL') => {
      await stop(signal);
      await start();
    },
    stop,
    dispose: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}


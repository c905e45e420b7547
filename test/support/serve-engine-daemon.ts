import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Wire } from './wire';

const fixture = join(import.meta.dirname, 'serve-engine-fixture.ts');

export interface FixtureDaemon {
  url: string;
  token: string;
  /** A client connection, already welcomed. */
  wire: Wire;
  /** Closes the client and stops the daemon with SIGTERM, as `serve` is stopped. */
  stop(): Promise<void>;
}

/**
 * serve-engine-fixture.ts in a process of its own (`kind`: the engine in a `worker` process, as
 * `serve` runs it, or `in-thread`), serving `models` (`id=dir`), with one client connected.
 */
export async function startFixtureDaemon(kind: string, dataDir: string, configDir: string, models: string[]): Promise<FixtureDaemon> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, kind, dataDir, configDir, ...models], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the serve-engine fixture exited with ${code} before it listened`)));
    createInterface({ input: child.stdout! }).once('line', resolve);
  });
  const { url, token } = JSON.parse(line) as { url: string; token: string };
  const { wire } = await Wire.open(url, token);
  const stop = async () => {
    await wire.close();
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  return { url, token, wire, stop };
}

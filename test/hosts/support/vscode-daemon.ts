import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * A real daemon as a user starts one (`styleset serve`, the built CLI) on the embedded icon model,
 * with its own data and config folders.
 */
export interface DaemonProcess {
  url: string;
  port: number;
  token: string;
  dataDir: string;
  /** Its log, one JSON object per line. */
  log(): string;
  close(): Promise<void>;
}

const cli = join(import.meta.dirname, '../../../packages/daemon/bin/styleset.js');

export async function startDaemonProcess(root: string, port = 0): Promise<DaemonProcess> {
  const dataDir = join(root, 'data');
  const configDir = join(root, 'config');
  const child = spawn(process.execPath, [cli, 'serve', '--port', String(port), '--data-dir', dataDir, '--config-dir', configDir, '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const listening = await new Promise<{ url: string; port: number }>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      output += `${line}\n`;
      try {
        const event = JSON.parse(line) as { type?: string; url?: string; port?: number };
        if (event.type === 'listening') resolve({ url: event.url!, port: event.port! });
      } catch {
        // Not JSON: kept in the log.
      }
    });
    child.once('exit', (code) => reject(new Error(`styleset serve exited with ${code}:\n${output}`)));
  });
  const token = (await readFile(join(configDir, 'token'), 'utf8')).trim();
  return { ...listening, token, dataDir, log: () => output, close: () => stop(child) };
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

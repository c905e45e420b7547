// Team mode as a team runs it, for the host tests: the built CLI's `styleset serve --queue` (front
// doors) and `styleset worker --queue` (workers), each a process of its own, against a real
// redis-server. Every line they print is kept, so a test can check what they never print.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

const CLI = join(import.meta.dirname, '../../../packages/daemon/dist/cli.js');

export interface TeamProcess {
  /** The JSON line it printed once ready (`listening` or `working`). */
  ready: Record<string, unknown>;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  /** Its JSON log lines so far. */
  events(): Array<Record<string, unknown>>;
  pid: number;
  /** SIGKILL stands for a crash, SIGTERM for Ctrl-C. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

async function startCli(args: string[], readyType: string): Promise<TeamProcess> {
  const child: ChildProcess = spawn(process.execPath, [CLI, ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const events: Array<Record<string, unknown>> = [];
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      output += `${line}\n`;
      try {
        const event = JSON.parse(line) as Record<string, unknown>;
        events.push(event);
        if (event.type === readyType) resolve(event);
      } catch {
        // not a JSON line: kept in the output
      }
    });
    child.once('exit', (code, signal) => reject(new Error(`styleset ${args[0]} exited (${code ?? signal}) before it was ready:\n${output}`)));
  });
  return {
    ready,
    output: () => output,
    events: () => events,
    pid: child.pid!,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

export interface FrontDoorProcess extends TeamProcess {
  url: string;
}

/** `styleset serve --queue`: front doors that share a config folder share the pairing token. */
export async function startFrontDoor(queue: string, configDir: string): Promise<FrontDoorProcess> {
  const started = await startCli(['serve', '--queue', queue, '--host', '127.0.0.1', '--port', '0', '--config-dir', configDir, '--data-dir', join(configDir, 'unused-data')], 'listening');
  return { ...started, url: started.ready.url as string };
}

/** `styleset worker --queue` with these `--model id=dir` entries; `lockMs` short, so a killed worker's job moves on soon. */
export async function startWorker(queue: string, dataDir: string, models: Record<string, string>, lockMs = 3000): Promise<TeamProcess> {
  const modelArgs = Object.entries(models).flatMap(([id, dir]) => ['--model', `${id}=${dir}`]);
  return startCli(['worker', '--queue', queue, '--data-dir', dataDir, '--config-dir', join(dataDir, 'config'), '--threads', '1', '--lock-ms', String(lockMs), ...modelArgs], 'working');
}

export async function pairingToken(configDir: string): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'pair', '--json', '--config-dir', configDir]);
  return (JSON.parse(stdout) as { token: string }).token;
}

/**
 * What `found` returns once it is neither undefined nor false: waits for a process to log what the
 * test needs, polling often (a kill must land while a job still runs). No time limit of its own:
 * the test's applies.
 */
export async function until<T>(found: () => T | undefined | false): Promise<T> {
  for (;;) {
    const value = found();
    if (value !== undefined && value !== false) return value;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
